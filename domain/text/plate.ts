/**
 * A licence plate among the lines read on a vehicle: 4 to 10 letters and digits (spaces, dashes and dots
 * between them), at least one digit, read with confidence. The most confident such line wins.
 */
export interface PlateCandidate {
  text: string;
  confidence: number;
}

export const PLATE_MIN_CONFIDENCE = 0.7;

export function plateOf<T extends PlateCandidate>(lines: readonly T[]): (T & { plate: string }) | null {
  let best: (T & { plate: string }) | null = null;
  for (const line of lines) {
    const plate = line.text.toUpperCase().replace(/\s+/g, ' ').trim();
    if (!/^[A-Z0-9][A-Z0-9 .·-]*[A-Z0-9]$/.test(plate)) continue;
    const characters = plate.replace(/[^A-Z0-9]/g, '');
    if (characters.length < 4 || characters.length > 10 || !/[0-9]/.test(characters)) continue;
    if (line.confidence < PLATE_MIN_CONFIDENCE) continue;
    if (!best || line.confidence > best.confidence) best = { ...line, plate };
  }
  return best;
}
