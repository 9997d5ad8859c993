#!/usr/bin/env node
// Writes assets/icon.png, the app icon electron-builder takes from buildResources (512x512 is
// what it needs to derive the .icns, .ico and Linux sizes). A generated picture — a kiln's arch
// glowing on a dark tile — so the repository holds no binary that nobody can regenerate.
// Usage: node assets/make-icon.mjs
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const N = 512;

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** RGBA of pixel (x, y): rounded dark tile, an arch (the kiln's mouth) filled with a warm glow */
function pixel(x, y) {
  const r = 96; // corner radius
  const cx = Math.min(Math.max(x, r), N - 1 - r);
  const cy = Math.min(Math.max(y, r), N - 1 - r);
  if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return [0, 0, 0, 0];
  const archX = N / 2;
  const archY = 300;
  const dx = x - archX;
  const inArch = (Math.abs(dx) < 150 && y >= archY && y < 420) || (dx * dx + (y - archY) ** 2 < 150 * 150 && y < archY);
  if (!inArch) return [27, 29, 35, 255];
  // hotter towards the bottom centre
  const t = Math.min(1, Math.hypot(dx / 150, (y - 420) / 270));
  return [255, Math.round(200 - 130 * t), Math.round(60 - 50 * t), 255];
}

const raw = Buffer.alloc((N * 4 + 1) * N);
for (let y = 0; y < N; y++) {
  raw[y * (N * 4 + 1)] = 0; // filter: none
  for (let x = 0; x < N; x++) Buffer.from(pixel(x, y)).copy(raw, y * (N * 4 + 1) + 1 + x * 4);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(N, 0);
ihdr.writeUInt32BE(N, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // colour type RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'icon.png');
writeFileSync(out, png);
console.log(`wrote ${out} (${N}x${N}, ${png.length} bytes)`);
