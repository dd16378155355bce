// Docker's word expansion (quotes, the escape character, `$X`, `${X}`, `${X:-w}`, `${X:+w}`) over variables the
// build policy can be sure of. A variable the scanner cannot know (an ARG a base image's ENV may override, or
// one set only by the base image) becomes an unknown piece: the policy then judges the known text before it.

/** A piece of an expanded word: known text, or a value only the daemon will know. */
export type Piece = { text: string } | { unknown: string };

/** Variables in scope: a value (as pieces) per name; `absentIsUnset` when no base image can add more (FROM). */
export interface Scope {
  vars: Map<string, Piece[]>;
  absentIsUnset: boolean;
}

/** Expands one word as the daemon would; pieces in order, adjacent known text joined. */
export function expandWord(word: string, scope: Scope, escape = "\\"): Piece[] {
  const out: Piece[] = [];
  const put = (p: Piece) => {
    const last = out[out.length - 1];
    if ("text" in p && last && "text" in last) last.text += p.text;
    else if (!("text" in p) || p.text) out.push("text" in p ? { text: p.text } : p);
  };
  let i = 0;
  while (i < word.length) {
    const c = word[i]!;
    if (c === escape) {
      put({ text: word[i + 1] ?? c });
      i += 2;
    } else if (c === "'") {
      const end = word.indexOf("'", i + 1);
      put({ text: word.slice(i + 1, end < 0 ? word.length : end) });
      i = end < 0 ? word.length : end + 1;
    } else if (c === '"') {
      i++;
      while (i < word.length && word[i] !== '"') {
        if (word[i] === escape && ['"', "$", escape].includes(word[i + 1] ?? "")) {
          put({ text: word[i + 1]! });
          i += 2;
        } else if (word[i] === "$") i = dollar(word, i, scope, put, escape);
        else put({ text: word[i++]! });
      }
      i++;
    } else if (c === "$") i = dollar(word, i, scope, put, escape);
    else put({ text: word[i++]! });
  }
  return out;
}

/** Reads `$NAME` / `${…}` at `i`; returns the index after it. */
function dollar(word: string, i: number, scope: Scope, put: (p: Piece) => void, escape: string): number {
  if (word[i + 1] === "{") {
    const end = closingBrace(word, i + 2);
    const body = word.slice(i + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(body);
    if (!m)
      put({ unknown: body }); // a form the policy does not model (`${X#p}`, `${X/a/b}`…): could be anything
    else if (!m[2]) value(m[1]!, scope).forEach(put);
    else {
      const v = scope.vars.get(m[1]!);
      if (!v && !scope.absentIsUnset) put({ unknown: m[1]! });
      else if (v && v.some((p) => "unknown" in p)) put({ unknown: m[1]! });
      else {
        const set = v !== undefined && (!m[2].startsWith(":") || v.some((p) => "text" in p && p.text));
        const useWord = m[2].endsWith("-") ? !set : set;
        (useWord ? expandWord(m[3]!, scope, escape) : m[2].endsWith("-") ? v! : []).forEach(put);
      }
    }
    return end + 1;
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1));
  if (!m) {
    put({ text: "$" });
    return i + 1;
  }
  value(m[0], scope).forEach(put);
  return i + 1 + m[0].length;
}

function value(name: string, scope: Scope): Piece[] {
  const v = scope.vars.get(name);
  if (v) return v;
  return scope.absentIsUnset ? [] : [{ unknown: name }];
}

function closingBrace(word: string, from: number): number {
  let depth = 1;
  for (let j = from; j < word.length; j++) {
    if (word[j] === "{") depth++;
    else if (word[j] === "}" && --depth === 0) return j;
  }
  return word.length;
}

/** The known text before the first unknown piece, and whether the whole word is known. */
export function knownPrefix(pieces: Piece[]): { prefix: string; complete: boolean } {
  let prefix = "";
  for (const p of pieces) {
    if ("unknown" in p) return { prefix, complete: false };
    prefix += p.text;
  }
  return { prefix, complete: true };
}
