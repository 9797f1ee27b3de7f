// Magnum's short id (magnum/common/short_id.py): 12 lower-case base32 characters from the
// 60 random "time" bits of a v4 uuid. Derived from the bay's uuid, so a retried create
// computes the same stack name and finds the stack instead of making a second one.

const B32 = "abcdefghijklmnopqrstuvwxyz234567";

export function shortId(uuid: string): string {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex) || hex[12] !== "4") throw new Error(`not a v4 uuid: ${uuid}`);
  // uuid.time = time_low (8 hex) | time_mid (4) | time_hi without the version nibble (3)
  const time = BigInt(`0x${hex.slice(13, 16)}${hex.slice(8, 12)}${hex.slice(0, 8)}`);
  // _to_byte_string(time, 60): 8 bytes, the last one shifted left by 4
  const bytes: number[] = [];
  for (let off = 52; off > -8; off -= 8) {
    bytes.push(Number((off >= 0 ? time >> BigInt(off) : time << BigInt(-off)) & 0xffn));
  }
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  // base32 of 64 bits, first 12 characters (60 bits)
  let out = "";
  for (let i = 0; i < 12; i++) out += B32[Number((bits >> BigInt(64 - 5 * (i + 1))) & 31n)];
  return out;
}
