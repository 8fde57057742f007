/**
 * A table with a search box and sortable columns (a button in each header; aria-sort says
 * the order). Wide tables scroll sideways inside their own box on a phone.
 */
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';

export interface Column<T> {
  key: string;
  label: string;
  /** What sorting and searching use (default: the rendered text is not known, so nothing). */
  value?: (row: T) => string | number;
  render: (row: T) => ComponentChildren;
  numeric?: boolean;
}

export interface DataTableProps<T> {
  caption: string;
  rows: readonly T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  /** Shows a search box that filters on every column's value. */
  search?: boolean;
  /** The search box's label (default: "Search <caption in lower case>"). */
  searchLabel?: string;
  initialSort?: { key: string; dir: 'ascending' | 'descending' };
  empty?: string;
}

export function DataTable<T>({ caption, rows, columns, rowKey, search, searchLabel, initialSort, empty = 'Nothing here.' }: DataTableProps<T>) {
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState(initialSort);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    let out = q ? rows.filter((r) => columns.some((c) => c.value && String(c.value(r)).toLowerCase().includes(q))) : [...rows];
    const col = sort && columns.find((c) => c.key === sort.key);
    if (col?.value) {
      const v = col.value;
      const dir = sort!.dir === 'ascending' ? 1 : -1;
      out = out.sort((a, b) => {
        const x = v(a);
        const y = v(b);
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true })) * dir;
      });
    }
    return out;
  }, [rows, columns, query, sort]);

  const toggle = (key: string) => setSort((s) => ({ key, dir: s?.key === key && s.dir === 'ascending' ? 'descending' : 'ascending' }));

  return (
    <div class="data-table">
      {search && (
        <label class="search">
          {searchLabel ?? `Search ${caption.toLowerCase()}`}
          <input type="search" value={query} onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
        </label>
      )}
      <div class="table-scroll" tabIndex={0} role="region" aria-label={caption}>
        <table>
          <caption>
            {caption} <span class="count">({shown.length === rows.length ? rows.length : `${shown.length} of ${rows.length}`})</span>
          </caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.key} scope="col" class={c.numeric ? 'num' : undefined} aria-sort={sort?.key === c.key ? sort.dir : undefined}>
                  {c.value ? (
                    <button type="button" class="sort" onClick={() => toggle(c.key)}>
                      {c.label}
                      <span aria-hidden="true">{sort?.key === c.key ? (sort.dir === 'ascending' ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 ? (
              <tr>
                <td colSpan={columns.length} class="empty">
                  {empty}
                </td>
              </tr>
            ) : (
              shown.map((r) => (
                <tr key={rowKey(r)} data-row={rowKey(r)}>
                  {columns.map((c) => (
                    <td key={c.key} class={c.numeric ? 'num' : undefined}>
                      {c.render(r)}
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
