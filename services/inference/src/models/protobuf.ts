/**
 * The few protobuf wire-format primitives the ONNX writer needs (proto2, encode only).
 * Messages are built bottom-up: a child message is finished into a Buffer, then embedded
 * in its parent as a length-delimited field.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH_DELIMITED = 2;

const UINT64_MASK = (1n << 64n) - 1n;

function varint(value: bigint): Buffer {
  // int64 fields encode negative numbers as their 64-bit two's complement (always 10 bytes).
  let v = value & UINT64_MASK;
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

function tag(field: number, wire: number): Buffer {
  return varint(BigInt((field << 3) | wire));
}

export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  /** int32, int64, enum and bool fields. */
  int(field: number, value: number | bigint): this {
    this.parts.push(tag(field, WIRE_VARINT), varint(BigInt(value)));
    return this;
  }

  float(field: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(tag(field, WIRE_FIXED32), b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytes(field: number, value: Buffer): this {
    this.parts.push(tag(field, WIRE_LENGTH_DELIMITED), varint(BigInt(value.length)), value);
    return this;
  }

  /** An embedded message. */
  message(field: number, value: Buffer): this {
    return this.bytes(field, value);
  }

  /** A packed repeated varint field (repeated int64 with [packed = true]). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    return this.bytes(field, Buffer.concat(values.map((v) => varint(BigInt(v)))));
  }

  /** Unpacked repeated int64 (proto2 default for `repeated int64` without the packed option). */
  repeatedInts(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}
