/** One parameter widget, chosen from the field's JSON Schema and widget hint. */
import { useEffect, useState } from 'react';
import { localProblem, type FieldSpec } from './schema';

interface Props {
  nodeId: string;
  field: FieldSpec;
  value: unknown;
  serverProblem?: string;
  onChange(value: unknown): void;
  onUpload?(file: File): void;
}

const MAX_SEED = 2 ** 32 - 1;

export function ParamField({ nodeId, field, value, serverProblem, onChange, onUpload }: Props) {
  const shown = value === undefined ? field.default : value;
  const local = localProblem(field, value);
  const problem = local ?? serverProblem;
  const id = `param-${nodeId}-${field.key}`;
  return (
    <div className={`param ${problem ? 'param-bad' : ''}`} data-field={field.key} title={field.description}>
      <label htmlFor={id} className="param-label">
        {field.label}
        {value === undefined && field.default !== undefined ? <span className="param-default">default</span> : null}
      </label>
      <Widget id={id} field={field} value={shown} onChange={onChange} onUpload={onUpload} />
      {problem ? <div className="param-problem">{problem}</div> : null}
    </div>
  );
}

function Widget({ id, field, value, onChange, onUpload }: { id: string; field: FieldSpec; value: unknown; onChange(v: unknown): void; onUpload?(f: File): void }) {
  switch (field.widget) {
    case 'textarea':
      return (
        <textarea
          id={id}
          className="nodrag nowheel"
          rows={3}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value)}
          spellCheck={false}
        />
      );
    case 'checkbox':
      return <input id={id} className="nodrag" type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
    case 'select':
      return (
        <select
          id={id}
          className="nodrag"
          value={value === undefined ? '' : String(value)}
          onChange={(e) => {
            const opt = field.options?.find((o) => String(o) === e.target.value);
            onChange(opt ?? e.target.value);
          }}
        >
          {value === undefined ? <option value="">(choose)</option> : null}
          {field.options?.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    case 'slider':
      return (
        <div className="slider-row">
          <input
            className="nodrag"
            type="range"
            min={field.min}
            max={field.max}
            step={field.step ?? 'any'}
            value={typeof value === 'number' ? value : (field.min ?? 0)}
            onChange={(e) => onChange(Number(e.target.value))}
            aria-label={field.label}
          />
          <NumberInput id={id} field={field} value={value} onChange={onChange} />
        </div>
      );
    case 'seed':
      return (
        <div className="slider-row">
          <NumberInput id={id} field={field} value={value} onChange={onChange} />
          <button
            type="button"
            className="nodrag icon-button"
            title="Random seed"
            data-testid="randomise-seed"
            onClick={() => onChange(Math.floor(Math.random() * Math.min(MAX_SEED, field.max ?? MAX_SEED)))}
          >
            <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
              <rect x="1.5" y="1.5" width="13" height="13" rx="3" fill="none" stroke="currentColor" strokeWidth="1.4" />
              <circle cx="5" cy="5" r="1.3" fill="currentColor" />
              <circle cx="8" cy="8" r="1.3" fill="currentColor" />
              <circle cx="11" cy="11" r="1.3" fill="currentColor" />
            </svg>
          </button>
        </div>
      );
    case 'number':
      return <NumberInput id={id} field={field} value={value} onChange={onChange} />;
    case 'path':
      return (
        <div className="slider-row">
          <input id={id} className="nodrag" type="text" value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value)} />
          {onUpload ? (
            <FilePicker className="icon-button nodrag" title="Upload a file" accept="image/*,video/*" onFile={onUpload}>
              ⤒
            </FilePicker>
          ) : null}
        </div>
      );
    default:
      return <input id={id} className="nodrag" type="text" value={value === undefined ? '' : String(value)} onChange={(e) => onChange(e.target.value)} />;
  }
}

export function FilePicker({ children, accept, onFile, className, title }: { children: React.ReactNode; accept: string; onFile(f: File): void; className?: string; title?: string }) {
  return (
    <label className={className} title={title}>
      {children}
      <input
        type="file"
        accept={accept}
        hidden
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onFile(f);
          e.target.value = '';
        }}
      />
    </label>
  );
}

/** Keeps the text the user is typing ("0.", "-") while handing numbers upward. */
function NumberInput({ id, field, value, onChange }: { id: string; field: FieldSpec; value: unknown; onChange(v: unknown): void }) {
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    if (Number(text) !== value) setText(value === undefined ? '' : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id}
      className="nodrag number"
      type="number"
      min={field.min}
      max={field.max}
      step={field.step ?? 'any'}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        if (e.target.value === '') onChange(undefined);
        else if (!Number.isNaN(Number(e.target.value))) onChange(Number(e.target.value));
      }}
    />
  );
}
