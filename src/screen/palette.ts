/**
 * The xterm-256 palette: the RGB of its fixed entries (the SVG screenshot paints them)
 * and truecolor → xterm-256 reduction for the full-screen terminal. blessed's cell
 * attribute holds a palette index (0-255), so 24-bit colours from the inner program are
 * mapped to the nearest entry of the parts of the xterm-256 palette whose RGB values
 * every terminal agrees on: the 6×6×6 cube (16-231) and the grey ramp (232-255).
 * The first 16 entries are left out on purpose: their RGB values are the outer
 * terminal's theme, unknown to us (tmux reduces colours the same way).
 */

/** The six intensities of each axis of the xterm colour cube. */
export const CUBE_LEVELS = [0, 95, 135, 175, 215, 255] as const;

/** RGB of palette entry 16-255 as 0xRRGGBB; undefined for the themed 0-15. */
export function paletteRgb(index: number): number | undefined {
  if (index < 16 || index > 255) return undefined;
  if (index >= 232) {
    const grey = 8 + (index - 232) * 10;
    return (grey << 16) | (grey << 8) | grey;
  }
  const cube = index - 16;
  const level = (axis: number): number => CUBE_LEVELS[axis % 6] ?? 0;
  return (level(Math.floor(cube / 36)) << 16) | (level(Math.floor(cube / 6)) << 8) | level(cube);
}

function nearestCubeLevel(value: number): number {
  // Midpoints between the cube levels: 0|47|95|115|135|155|175|195|215|235|255.
  if (value < 48) return 0;
  if (value < 115) return 1;
  return Math.min(5, Math.floor((value - 35) / 40));
}

function distance2(a: number, b: number): number {
  const dr = ((a >> 16) & 0xff) - ((b >> 16) & 0xff);
  const dg = ((a >> 8) & 0xff) - ((b >> 8) & 0xff);
  const db = (a & 0xff) - (b & 0xff);
  return dr * dr + dg * dg + db * db;
}

const cache = new Map<number, number>();

/** The palette index (16-255) nearest to 0xRRGGBB in RGB distance. */
export function nearestPaletteIndex(rgb: number): number {
  const hit = cache.get(rgb);
  if (hit !== undefined) return hit;
  const r = (rgb >> 16) & 0xff;
  const g = (rgb >> 8) & 0xff;
  const b = rgb & 0xff;
  const cubeIndex = 16 + 36 * nearestCubeLevel(r) + 6 * nearestCubeLevel(g) + nearestCubeLevel(b);
  // The grey ramp is nearest for (near-)greys: try the grey closest to the mean.
  const mean = (r + g + b) / 3;
  const greyIndex = 232 + Math.max(0, Math.min(23, Math.round((mean - 8) / 10)));
  const best =
    distance2(rgb, paletteRgb(greyIndex)!) < distance2(rgb, paletteRgb(cubeIndex)!) ? greyIndex : cubeIndex;
  // Bounded: programs that paint gradients produce many colours.
  if (cache.size > 4096) cache.clear();
  cache.set(rgb, best);
  return best;
}
