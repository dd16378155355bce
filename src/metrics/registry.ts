// Metric families (counters, gauges, histograms) and a registry rendering them in the Prometheus text format.

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const fmt = (n: number) => (n === Infinity ? "+Inf" : n === -Infinity ? "-Inf" : Number.isNaN(n) ? "NaN" : String(n));

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** One metric family: its series keyed by label values in `labelNames` order. */
abstract class Family<S> {
  protected readonly series = new Map<string, { values: string[]; state: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly type: string,
  ) {}

  // Runs on every request (HTTP metrics): the key is built without intermediate arrays.
  protected at(labels: Labels, init: () => S): S {
    const names = this.labelNames;
    let key = "";
    for (let i = 0; i < names.length; i++) key += (i ? "\u0000" : "") + (labels[names[i]] ?? "");
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values: names.map((n) => labels[n] ?? ""), state: init() }));
    return s.state;
  }

  render(): string {
    return [`# HELP ${this.name} ${this.help.replace(/\n/g, " ")}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join(
      "\n",
    );
  }

  protected abstract lines(): string[];
}

export class Counter extends Family<{ v: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error("a counter only goes up");
    this.at(labels, () => ({ v: 0 })).v += by;
  }
  get(labels: Labels = {}): number {
    return this.at(labels, () => ({ v: 0 })).v;
  }
  /** The series of `labels`, resolved once: for callers that count the same series on a hot path. */
  child(labels: Labels = {}): { inc(by?: number): void } {
    const state = this.at(labels, () => ({ v: 0 }));
    return {
      inc(by = 1) {
        if (by < 0) throw new Error("a counter only goes up");
        state.v += by;
      },
    };
  }
  protected lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(this.labelNames, s.values)} ${fmt(s.state.v)}`);
  }
}

export class Gauge extends Family<{ v: number }> {
  /** `collect`, when given, refreshes the gauge at scrape time. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    private readonly collect?: (g: Gauge) => void,
  ) {
    super(name, help, labelNames, "gauge");
  }
  set(labels: Labels, v: number): void {
    this.at(labels, () => ({ v: 0 })).v = v;
  }
  reset(): void {
    this.series.clear();
  }
  override render(): string {
    this.collect?.(this);
    return super.render();
  }
  protected lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(this.labelNames, s.values)} ${fmt(s.state.v)}`);
  }
}

export class Histogram extends Family<{ counts: number[]; sum: number; count: number }> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, "histogram");
  }
  observe(labels: Labels, v: number): void {
    this.record(
      this.at(labels, () => this.empty()),
      v,
    );
  }
  /** The series of `labels`, resolved once: for callers that observe the same series on a hot path. */
  child(labels: Labels): { observe(v: number): void } {
    const state = this.at(labels, () => this.empty());
    return { observe: (v) => this.record(state, v) };
  }
  private empty() {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  // counts[i] holds the observations whose smallest bucket is i; render() accumulates them.
  private record(s: { counts: number[]; sum: number; count: number }, v: number): void {
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }
  protected lines(): string[] {
    const out: string[] = [];
    for (const { values, state } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${fmt(b)}"`)} ${(cumulative += state.counts[i])}`),
      );
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${state.count}`);
      out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${fmt(state.sum)}`);
      out.push(`${this.name}_count${labelText(this.labelNames, values)} ${state.count}`);
    }
    return out;
  }
}

/** A set of metric families rendered together in the Prometheus text format (version 0.0.4). */
export class Registry {
  private readonly families = new Map<string, Family<unknown>>();
  register<F extends Family<any>>(f: F): F {
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.set(f.name, f as Family<unknown>);
    return f;
  }
  render(): string {
    return [...this.families.values()].map((f) => f.render()).join("\n\n") + "\n";
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
