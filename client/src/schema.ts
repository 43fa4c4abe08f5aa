/**
 * Turns a node's params JSON Schema (z.toJSONSchema output with WidgetMeta hints) into
 * widget specs. Only the JSON Schema subset zod emits for flat param objects matters:
 * scalars, enums, defaults, bounds, and anyOf for optional/nullable wrappers.
 */
import type { NodeDescription, WidgetMeta } from '../../nodes/core/definition';

export type WidgetKind = NonNullable<WidgetMeta['widget']>;

export interface FieldSpec {
  key: string;
  label: string;
  widget: WidgetKind;
  valueType: 'string' | 'number' | 'integer' | 'boolean' | 'unknown';
  min?: number;
  max?: number;
  step?: number;
  options?: (string | number)[];
  default?: unknown;
  description?: string;
  required: boolean;
}

type Schema = Record<string, unknown>;

const isObj = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);
// zod emits the safe-integer range for .int(); that is "unbounded" for a widget.
const bounded = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < 1e12 ? v : undefined;

/** Merges anyOf/oneOf branches that only add null/undefined, keeping the real one. */
function unwrap(schema: Schema): Schema {
  const branches = (schema.anyOf ?? schema.oneOf) as unknown;
  if (!Array.isArray(branches)) return schema;
  const real = branches.filter((b) => isObj(b) && b.type !== 'null' && !('not' in b));
  if (real.length === 1 && isObj(real[0])) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return { ...unwrap(real[0]), ...rest };
  }
  // A union of constants is an enum.
  if (real.every((b) => isObj(b) && 'const' in b)) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return { ...rest, enum: real.map((b) => (b as Schema).const) };
  }
  return schema;
}

function humanise(key: string): string {
  const spaced = key.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

export function fieldsOf(desc: NodeDescription): FieldSpec[] {
  const props = isObj(desc.params.properties) ? desc.params.properties : {};
  const required = new Set(Array.isArray(desc.params.required) ? (desc.params.required as string[]) : []);
  return Object.entries(props).filter(([, s]) => isObj(s)).map(([key, raw]) => fieldOf(key, unwrap(raw as Schema), required.has(key)));
}

function fieldOf(key: string, s: Schema, required: boolean): FieldSpec {
  const hint = s.widget as WidgetKind | undefined;
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : (s.type as string | undefined);
  const options = Array.isArray(s.enum) ? (s.enum as unknown[]).filter((v): v is string | number => typeof v === 'string' || typeof v === 'number') : undefined;
  const valueType: FieldSpec['valueType'] =
    type === 'string' || type === 'number' || type === 'integer' || type === 'boolean'
      ? type
      : options && typeof options[0] === 'number'
        ? 'number'
        : options
          ? 'string'
          : 'unknown';
  const min = bounded(s.minimum) ?? bounded(s.exclusiveMinimum);
  const max = bounded(s.maximum) ?? bounded(s.exclusiveMaximum);
  let widget: WidgetKind;
  if (hint) widget = hint;
  else if (options) widget = 'select';
  else if (valueType === 'boolean') widget = 'checkbox';
  else if (key === 'seed') widget = 'seed';
  else if (valueType === 'number' || valueType === 'integer') widget = min !== undefined && max !== undefined ? 'slider' : 'number';
  else widget = 'text';
  if (widget === 'select' && !options) widget = 'text';
  if (widget === 'slider' && (min === undefined || max === undefined)) widget = 'number';
  const step = typeof s.step === 'number' ? s.step : valueType === 'integer' ? 1 : typeof s.multipleOf === 'number' ? s.multipleOf : undefined;
  return {
    key,
    label: typeof s.label === 'string' ? s.label : typeof s.title === 'string' ? s.title : humanise(key),
    widget,
    valueType,
    min,
    max,
    step,
    options,
    default: s.default,
    description: typeof s.description === 'string' ? s.description : undefined,
    required,
  };
}

export function defaultParams(desc: NodeDescription): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fieldsOf(desc)) if (f.default !== undefined) out[f.key] = f.default;
  return out;
}

/** A quick local check so a field turns red as the user types, before the server answers. */
export function localProblem(f: FieldSpec, value: unknown): string | null {
  if (value === undefined || value === '') return f.required && f.default === undefined ? 'required' : null;
  if (f.valueType === 'number' || f.valueType === 'integer') {
    if (typeof value !== 'number' || Number.isNaN(value)) return 'must be a number';
    if (f.valueType === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
    if (f.min !== undefined && value < f.min) return `must be at least ${f.min}`;
    if (f.max !== undefined && value > f.max) return `must be at most ${f.max}`;
  }
  if (f.options && !f.options.includes(value as string | number)) return `must be one of ${f.options.join(', ')}`;
  return null;
}
