export interface BenchRow {
  area: string;
  name: string;
  value: number;
  unit: string;
  /** What the value should be, e.g. "<= 1.05". */
  target?: string;
  ok?: boolean;
}
