/**
 * Typed little-endian access to one C struct inside a byte array, by member name.
 * The caller checks that the struct lies inside the bytes (a bad image is the
 * caller's ImageError); the checks here catch the reader's own bugs.
 */
import type { FieldLayout, ScalarType, StructLayout } from './format.js';

const NARROW: ReadonlySet<ScalarType> = new Set(['u8', 'i8', 'u16', 'i16', 'u32', 'i32']);

export class StructView<F extends string> {
  private readonly view: DataView;

  constructor(
    bytes: Uint8Array,
    private readonly base: number,
    readonly layout: StructLayout<F>,
  ) {
    if (base < 0 || base + layout.size > bytes.length) {
      throw new Error(`${layout.cType} at ${base} is outside ${bytes.length} bytes`);
    }
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private field(name: F, wanted: 'narrow' | 'wide' | 'array' | 'struct'): FieldLayout {
    const field = this.layout.fields[name];
    const kind =
      typeof field.type !== 'string' ? 'struct' : field.count > 1 ? 'array' : NARROW.has(field.type) ? 'narrow' : 'wide';
    if (kind !== wanted) throw new Error(`${this.layout.cType}.${name} is not a ${wanted} member`);
    return field;
  }

  /** A member of at most 32 bits, signed or not as declared. */
  num(name: F): number {
    const field = this.field(name, 'narrow');
    const at = this.base + field.offset;
    switch (field.type) {
      case 'u8':
        return this.view.getUint8(at);
      case 'i8':
        return this.view.getInt8(at);
      case 'u16':
        return this.view.getUint16(at, true);
      case 'i16':
        return this.view.getInt16(at, true);
      case 'u32':
        return this.view.getUint32(at, true);
      default:
        return this.view.getInt32(at, true);
    }
  }

  /** A 64-bit member, signed or not as declared. */
  big(name: F): bigint {
    const field = this.field(name, 'wide');
    const at = this.base + field.offset;
    return field.type === 'i64' ? this.view.getBigInt64(at, true) : this.view.getBigUint64(at, true);
  }

  /** The raw bytes of an array member (char comm[16], uint8_t c_cc[19], …). */
  bytes(name: F): Uint8Array {
    const field = this.field(name, 'array');
    const start = this.view.byteOffset + this.base + field.offset;
    return new Uint8Array(this.view.buffer, start, field.size);
  }

  /** A nested struct member, or element `index` of an array of structs. */
  nested<G extends string>(name: F, index = 0): StructView<G> {
    const field = this.field(name, 'struct');
    const layout = field.type as StructLayout<G>;
    if (!Number.isInteger(index) || index < 0 || index >= field.count) {
      throw new Error(`${this.layout.cType}.${name}[${index}] is out of range`);
    }
    const bytes = new Uint8Array(this.view.buffer, this.view.byteOffset, this.view.byteLength);
    return new StructView(bytes, this.base + field.offset + index * layout.size, layout);
  }
}
