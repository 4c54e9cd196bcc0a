/**
 * Where each keyboard byte goes. Keys are read raw from the outer terminal, not by
 * blessed: in the pane they go to the program untouched (but for the prefix key and
 * its command); while an overlay is open they are handed to blessed, so blessed never
 * sees or mangles what the program gets.
 */
import type { HostCommand, PrefixReader } from './keys.js';

export interface KeyTargets {
  /** An overlay has the keyboard. */
  overlayOpen(): boolean;
  toOverlay(data: Buffer): void;
  toProgram(data: Buffer): void;
  command(command: HostCommand): void;
  /** The prefix was followed by a key that is no command. */
  unknownCommand(key: string): void;
  /** The prefix started or stopped waiting for its command key (the status line shows it). */
  prefixChanged(): void;
}

export class KeyRouter {
  constructor(
    private readonly prefix: PrefixReader,
    private readonly targets: KeyTargets,
  ) {}

  feed(data: Buffer): void {
    const { targets } = this;
    if (targets.overlayOpen()) {
      targets.toOverlay(data);
      return;
    }
    const wasPending = this.prefix.pending;
    for (const piece of this.prefix.feed(data)) {
      if (targets.overlayOpen()) {
        // A command opened an overlay: the rest of the read is for it.
        if (piece.kind === 'program') targets.toOverlay(piece.data);
        continue;
      }
      switch (piece.kind) {
        case 'program':
          targets.toProgram(piece.data);
          break;
        case 'command':
          targets.command(piece.command);
          break;
        case 'unknown':
          targets.unknownCommand(piece.key);
          break;
        case 'cancel':
          targets.prefixChanged();
          break;
      }
    }
    if (this.prefix.pending !== wasPending) targets.prefixChanged();
  }
}
