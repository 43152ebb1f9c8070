import { parseVersionRange, type VersionRange } from './versions.js';

/**
 * Kafka protocol messages declared as data. Each message is a list of fields with a type, the
 * versions it exists in, the versions where it may be null, and (for flexible versions) an
 * optional tag. The generic codec in codec.ts walks these definitions in both directions; nothing
 * else knows a message's layout.
 *
 * The builders below also carry each field's TypeScript type, so `MessageValue<typeof Schema>` is
 * the exact shape the codec produces and accepts, with no hand-written interfaces to drift.
 */

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type FieldKind =
  | { kind: 'primitive'; type: PrimitiveType }
  | { kind: 'primitiveArray'; type: PrimitiveType }
  | { kind: 'struct'; fields: readonly FieldSchema[] }
  | { kind: 'structArray'; fields: readonly FieldSchema[] };

export interface FieldOptions {
  /** Versions in which the value may be null ("0+", "3-5", ...). */
  nullable?: string;
  /** Makes the field a tagged field in these (flexible) versions, under `tag`. */
  tag?: number;
  taggedVersions?: string;
  /** Value when the field is absent from a version (decode) or left out by the caller (encode). */
  default?: unknown;
  /** "none" keeps the classic (non-compact) encoding even in flexible versions, as ClientId does. */
  flexibleVersions?: 'none';
}

/**
 * One field. `T` is the type of its decoded value and `I` the type accepted when encoding (where
 * every field may be omitted and takes its default); both are carried for inference only.
 */
export interface FieldSchema<N extends string = string, T = unknown, I = T> {
  readonly name: N;
  readonly type: FieldKind;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly taggedVersions: VersionRange;
  readonly tag: number | undefined;
  readonly defaultValue: unknown;
  readonly neverFlexible: boolean;
  /** Phantoms: never set at run time. */
  readonly __value?: T;
  readonly __input?: I;
}

type ValueOf<F> = F extends FieldSchema<string, infer T, unknown> ? T : never;
type InputOf<F> = F extends FieldSchema<string, unknown, infer I> ? I : never;

/** The object type described by a list of fields, as the decoder produces it. */
export type StructValue<Fs extends readonly FieldSchema[]> = {
  [F in Fs[number] as F['name']]: ValueOf<F>;
};

/** What the encoder accepts for a list of fields: any field may be left out and takes its default. */
export type StructInput<Fs extends readonly FieldSchema[]> = {
  [F in Fs[number] as F['name']]?: InputOf<F>;
};

interface PrimitiveValues {
  bool: boolean;
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: number;
  float64: number;
  string: string;
  bytes: Buffer;
  records: Buffer;
  /** Kafka's textual form: 22 characters of URL-safe base64. */
  uuid: string;
}

const PRIMITIVE_DEFAULTS: Record<PrimitiveType, unknown> = {
  bool: false,
  int8: 0,
  int16: 0,
  uint16: 0,
  int32: 0,
  uint32: 0,
  int64: 0,
  float64: 0,
  string: '',
  bytes: Buffer.alloc(0),
  records: Buffer.alloc(0),
  uuid: 'AAAAAAAAAAAAAAAAAAAAAA',
};

function makeField<N extends string, T, I = T>(
  name: N,
  type: FieldKind,
  versions: string,
  options: FieldOptions,
): FieldSchema<N, T, I> {
  const nullableVersions = parseVersionRange(options.nullable ?? 'none');
  let defaultValue = options.default;
  if (defaultValue === undefined) {
    if (type.kind === 'primitive') defaultValue = PRIMITIVE_DEFAULTS[type.type];
    else if (type.kind === 'struct') defaultValue = null;
    else defaultValue = [];
  }
  return {
    name,
    type,
    versions: parseVersionRange(versions),
    nullableVersions,
    taggedVersions: parseVersionRange(options.taggedVersions ?? 'none'),
    tag: options.tag,
    defaultValue,
    neverFlexible: options.flexibleVersions === 'none',
  };
}

type Nullable<T, O extends FieldOptions | undefined> = O extends { nullable: string } ? T | null : T;

function primitive<P extends PrimitiveType>(type: P) {
  return <N extends string, O extends FieldOptions | undefined = undefined>(
    name: N,
    versions: string,
    options?: O,
  ) =>
    makeField<N, Nullable<PrimitiveValues[P], O>>(name, { kind: 'primitive', type }, versions, options ?? {});
}

/** Field builders: `field.int32('partitionIndex', '0+')`, `field.array('topics', '0+', [...])`. */
export const field = {
  bool: primitive('bool'),
  int8: primitive('int8'),
  int16: primitive('int16'),
  uint16: primitive('uint16'),
  int32: primitive('int32'),
  uint32: primitive('uint32'),
  int64: primitive('int64'),
  float64: primitive('float64'),
  string: primitive('string'),
  bytes: primitive('bytes'),
  records: primitive('records'),
  uuid: primitive('uuid'),

  /** An array of primitives, e.g. `[]int32`. */
  primitiveArray<N extends string, P extends PrimitiveType, O extends FieldOptions | undefined = undefined>(
    name: N,
    type: P,
    versions: string,
    options?: O,
  ) {
    return makeField<N, Nullable<PrimitiveValues[P][], O>>(
      name,
      { kind: 'primitiveArray', type },
      versions,
      options ?? {},
    );
  },

  /** An array of structs, e.g. `[]TopicData`. */
  array<
    N extends string,
    const Fs extends readonly FieldSchema[],
    O extends FieldOptions | undefined = undefined,
  >(name: N, versions: string, fields: Fs, options?: O) {
    return makeField<N, Nullable<StructValue<Fs>[], O>>(
      name,
      { kind: 'structArray', fields },
      versions,
      options ?? {},
    );
  },

  /** A single nested struct. */
  struct<
    N extends string,
    const Fs extends readonly FieldSchema[],
    O extends FieldOptions | undefined = undefined,
  >(name: N, versions: string, fields: Fs, options?: O) {
    return makeField<N, Nullable<StructValue<Fs>, O>>(
      name,
      { kind: 'struct', fields },
      versions,
      options ?? {},
    );
  },
};

export interface MessageSchema<Fs extends readonly FieldSchema[] = readonly FieldSchema[]> {
  readonly name: string;
  readonly apiKey: number;
  readonly kind: 'request' | 'response';
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  readonly fields: Fs;
}

export function message<const Fs extends readonly FieldSchema[]>(definition: {
  name: string;
  apiKey: number;
  kind: 'request' | 'response';
  validVersions: string;
  flexibleVersions: string;
  fields: Fs;
}): MessageSchema<Fs> {
  return {
    name: definition.name,
    apiKey: definition.apiKey,
    kind: definition.kind,
    validVersions: parseVersionRange(definition.validVersions),
    flexibleVersions: parseVersionRange(definition.flexibleVersions),
    fields: definition.fields,
  };
}

/** The value type of a message schema, as decoded. */
export type MessageValue<S> = S extends MessageSchema<infer Fs> ? StructValue<Fs> : never;

/** What the encoder accepts for a message schema: fields with defaults may be omitted. */
export type MessageInput<S> = S extends MessageSchema<infer Fs> ? StructInput<Fs> : never;
