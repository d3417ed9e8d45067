import sharp from 'sharp';

/**
 * A 64×64 JPEG with a corrupt Huffman code in its entropy-coded data: libjpeg recovers (a warning, "Corrupt
 * JPEG data: bad Huffman code"), so the SDK's decode policy (failOn 'truncated') decodes it while sharp's
 * default policy (failOn 'warning') refuses it. `strictError` is sharp's refusal, checked so that a change of
 * libjpeg that no longer trips on these bytes shows up as a failing precondition, not a vacuous test.
 */
export async function corruptHuffmanJpeg(): Promise<{ bytes: Uint8Array; strictError: string }> {
  const w = 64, h = 64;
  const px = new Uint8Array(w * h * 3).map((_, i) => (i * 7919) % 251);
  const jpeg = new Uint8Array(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  let sos = -1;
  for (let i = 0; i < jpeg.length - 1; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === 0xda) { sos = i; break; }
  const scan = sos + 2 + ((jpeg[sos + 2]! << 8) | jpeg[sos + 3]!);
  const bytes = jpeg.slice();
  bytes[scan + 10] = (bytes[scan + 10]! ^ 0x5a) === 0xff ? 0xfe : bytes[scan + 10]! ^ 0x5a;
  bytes[scan + 11] = (bytes[scan + 11]! ^ 0x33) === 0xff ? 0xfe : bytes[scan + 11]! ^ 0x33;
  let strictError = '';
  try {
    await sharp(bytes).png().toBuffer();
  } catch (err) {
    strictError = (err as Error).message.split('\n')[0]!;
  }
  return { bytes, strictError };
}
