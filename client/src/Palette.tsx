/** The node palette (left) and the double-click search popup share one matcher. */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { NodeDescription } from '../../nodes/core/definition';
import { kindColour } from './graph';
import { categoryColour } from './StudioNodeView';

export const NODE_DRAG_TYPE = 'application/x-studio-node';
const CATEGORY_ORDER = ['text', 'generate', 'image', 'video', 'output'];

export function matchNodes(descs: readonly NodeDescription[], query: string): NodeDescription[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...descs];
  const score = (d: NodeDescription) => {
    const title = d.title.toLowerCase();
    if (title.startsWith(q) || d.type.startsWith(q)) return 0;
    if (title.includes(q) || d.type.includes(q)) return 1;
    if (d.category.includes(q) || d.description.toLowerCase().includes(q)) return 2;
    return 3;
  };
  return descs
    .map((d) => ({ d, s: score(d) }))
    .filter((x) => x.s < 3)
    .sort((a, b) => a.s - b.s || a.d.title.localeCompare(b.d.title))
    .map((x) => x.d);
}

function groupByCategory(descs: readonly NodeDescription[]): [string, NodeDescription[]][] {
  const groups = new Map<string, NodeDescription[]>();
  for (const d of descs) groups.set(d.category, [...(groups.get(d.category) ?? []), d]);
  const rank = (c: string) => (CATEGORY_ORDER.indexOf(c) + 1 || 99);
  return [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

function PortDots({ d }: { d: NodeDescription }) {
  return (
    <span className="port-dots">
      {Object.values(d.inputs).map((p, i) => (
        <i key={`i${i}`} style={{ background: kindColour(p.kind) }} title={`in: ${p.kind}`} />
      ))}
      <b>→</b>
      {Object.values(d.outputs).map((p, i) => (
        <i key={`o${i}`} style={{ background: kindColour(p.kind) }} title={`out: ${p.kind}`} />
      ))}
    </span>
  );
}

export function Palette({ descs, onAdd, error }: { descs: readonly NodeDescription[]; onAdd(type: string): void; error?: string }) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => groupByCategory(matchNodes(descs, query)), [descs, query]);
  return (
    <aside className="palette" data-testid="palette">
      <div className="panel-title">Nodes</div>
      <input className="search" placeholder="Search nodes…" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="palette-search" />
      {error ? <div className="panel-error">{error}</div> : null}
      <div className="palette-list">
        {groups.map(([cat, items]) => (
          <div key={cat} className="palette-group">
            <div className="palette-category" style={{ borderColor: categoryColour(cat) }}>
              {cat}
            </div>
            {items.map((d) => (
              <div
                key={d.type}
                className="palette-item"
                draggable
                data-testid={`palette-${d.type}`}
                title={`${d.description}\nDrag onto the canvas, or double-click to add.`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(NODE_DRAG_TYPE, d.type);
                  e.dataTransfer.effectAllowed = 'copy';
                }}
                onDoubleClick={() => onAdd(d.type)}
              >
                <span className="palette-name">{d.title}</span>
                <PortDots d={d} />
              </div>
            ))}
          </div>
        ))}
        {groups.length === 0 && descs.length > 0 ? <div className="muted">No node matches “{query}”.</div> : null}
      </div>
      <div className="legend">
        <div className="panel-title">Port kinds</div>
        <Legend />
      </div>
      <div className="shortcuts">
        <kbd>Ctrl</kbd>+<kbd>Enter</kbd> run · <kbd>Ctrl</kbd>+<kbd>S</kbd> save · double-click: add
        <br />
        <kbd>Ctrl</kbd>+<kbd>Z</kbd>/<kbd>Y</kbd> undo/redo · <kbd>Ctrl</kbd>+<kbd>C</kbd>/<kbd>V</kbd>/<kbd>D</kbd> copy/paste/duplicate
        <br />
        <kbd>Del</kbd> delete · <kbd>Shift</kbd>+drag select · <kbd>F</kbd> fit view
      </div>
    </aside>
  );
}

export function Legend() {
  const kinds = ['text-embedding', 'image-embedding', 'frames', 'image', 'file'];
  return (
    <div className="legend-items">
      {kinds.map((k) => (
        <span key={k}>
          <i style={{ background: kindColour(k) }} />
          {k}
        </span>
      ))}
    </div>
  );
}

export function SearchPopup({
  descs,
  at,
  onPick,
  onClose,
}: {
  descs: readonly NodeDescription[];
  at: { x: number; y: number };
  onPick(type: string): void;
  onClose(): void;
}) {
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const items = useMemo(() => matchNodes(descs, query), [descs, query]);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => setIndex(0), [query]);
  return (
    <div className="search-popup" style={{ left: at.x, top: at.y }} data-testid="search-popup" onMouseDown={(e) => e.stopPropagation()}>
      <input
        ref={input}
        placeholder="Add a node…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onBlur={() => setTimeout(onClose, 150)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          else if (e.key === 'ArrowDown') setIndex((i) => Math.min(items.length - 1, i + 1));
          else if (e.key === 'ArrowUp') setIndex((i) => Math.max(0, i - 1));
          else if (e.key === 'Enter' && items[index]) onPick(items[index].type);
          else return;
          e.preventDefault();
        }}
      />
      <div className="search-results">
        {items.map((d, i) => (
          <div
            key={d.type}
            className={`search-item ${i === index ? 'active' : ''}`}
            onMouseEnter={() => setIndex(i)}
            onMouseDown={(e) => {
              e.preventDefault();
              onPick(d.type);
            }}
          >
            <span className="swatch" style={{ background: categoryColour(d.category) }} />
            <span className="palette-name">{d.title}</span>
            <span className="muted small">{d.category}</span>
          </div>
        ))}
        {items.length === 0 ? <div className="muted small pad">Nothing matches.</div> : null}
      </div>
    </div>
  );
}
