/**
 * MAC addresses: `aa:bb:cc:dd:ee:ff` text (or with dashes, any case) in, lower-case colon-separated
 * text out, 6 bytes on the wire. IP addresses and prefixes are in ../ip/.
 */
import { NA_ERR_PACKET_BAD_ADDRESS } from '../errors.js';

const MAC_RE = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** Parses `aa:bb:cc:dd:ee:ff` (or with dashes, any case) into 6 bytes. */
export function parseMac(text: string, path = 'mac'): Uint8Array {
  if (typeof text !== 'string' || !MAC_RE.test(text)) throw NA_ERR_PACKET_BAD_ADDRESS(path, 'a MAC address', text);
  return Uint8Array.from(text.split(/[:-]/), (h) => parseInt(h, 16));
}

/** Formats 6 bytes at `offset` as lower-case colon-separated text. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function isMac(text: string): boolean {
  return typeof text === 'string' && MAC_RE.test(text);
}
