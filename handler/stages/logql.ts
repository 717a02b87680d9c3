/**
 * LogQL stream selectors with line filters, as Promtail's `match` stage accepts them:
 * `{app="x", env=~"prod|dev"} |= "error" != "debug" |~ "5.." !~ "health"`.
 *
 * Parsed with Grafana's own LogQL grammar (`@grafana/lezer-logql`), then narrowed to what
 * Promtail's selector parser knows: label matchers (`=`, `!=`, `=~`, `!~`) and line filters
 * (`|=`, `!=`, `|~`, `!~`). Anything else LogQL has (parsers, label filters, `or` in line
 * filters, pattern and IP filters, metric queries) is refused with its position.
 *
 * Matching follows Prometheus / Promtail: a label that is absent has the value ""; regex label
 * matchers must match the whole value (`^(?s:…)$`); line regexes match anywhere in the line.
 * Regular expressions run on the linear-time engine.
 */
import type { parser as LezerParser } from "@grafana/lezer-logql";
import type { Labels } from "../types";
import { GoStringError, readGoLiteral } from "./gostring";
import { Regex, RegexSyntaxError } from "../regex";

/** A selector that does not parse or uses what match selectors do not support. */
export class SelectorSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} (at offset ${offset})`);
    this.name = "SelectorSyntaxError";
  }
}

export type MatchOp = "=" | "!=" | "=~" | "!~";
export type FilterOp = "|=" | "!=" | "|~" | "!~";

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Offset of the value in the selector text. */
  at: number;
}

export interface LineFilter {
  op: FilterOp;
  value: string;
  at: number;
}

export interface Selector {
  matchers: LabelMatcher[];
  filters: LineFilter[];
}

/** A node of lezer's syntax tree (typed from the parser, so @lezer/common need not be a dependency). */
type SyntaxNode = ReturnType<typeof LezerParser.parse>["topNode"];

let lezer: typeof LezerParser | undefined;

/**
 * The grammar, loaded on first use: only configurations with a match stage pay for it (its
 * parse tables cost about as much to load as protobufjs, see the README's dependency table).
 */
function logqlParser(): typeof LezerParser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lezer ??= (require("@grafana/lezer-logql") as { parser: typeof LezerParser }).parser;
  return lezer;
}

const MATCH_OPS: Readonly<Record<string, MatchOp>> = { Eq: "=", Neq: "!=", Re: "=~", Nre: "!~" };
const FILTER_OPS: Readonly<Record<string, FilterOp>> = { PipeExact: "|=", Neq: "!=", PipeMatch: "|~", Nre: "!~" };

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.name !== "LineComment") out.push(c);
  return out;
}

/** Parses a selector; throws SelectorSyntaxError naming the offset of the problem. */
export function parseSelector(text: string): Selector {
  const tree = logqlParser().parse(text);
  let errorAt: number | undefined;
  tree.iterate({
    enter(n) {
      if (n.type.isError && errorAt === undefined) errorAt = n.from;
      return errorAt === undefined;
    },
  });
  if (errorAt !== undefined) {
    const near = text.slice(errorAt, errorAt + 12);
    throw new SelectorSyntaxError(near ? `syntax error near ${JSON.stringify(near)}` : "syntax error: unexpected end of selector", errorAt);
  }
  const expr = tree.topNode.getChild("Expr");
  const logExpr = expr?.getChild("LogExpr");
  const selector = logExpr?.getChild("Selector");
  if (!logExpr || !selector) throw new SelectorSyntaxError("expected a stream selector such as {app=\"x\"}, optionally followed by line filters", expr?.from ?? 0);
  const string = (node: SyntaxNode | null): string => {
    if (!node) throw new SelectorSyntaxError("expected a quoted string", 0);
    try {
      return readGoLiteral(text, node.from, node.to).value;
    } catch (err) {
      if (err instanceof GoStringError) throw new SelectorSyntaxError(err.reason, err.at);
      throw err;
    }
  };

  const matchers: LabelMatcher[] = [];
  const collectMatchers = (node: SyntaxNode): void => {
    for (const c of children(node)) {
      if (c.name === "Matchers") collectMatchers(c);
      else if (c.name === "Matcher") {
        const [name, op, value] = children(c);
        matchers.push({ name: text.slice(name.from, name.to), op: MATCH_OPS[op.name], value: string(value), at: value.from });
      }
    }
  };
  const matchersNode = selector.getChild("Matchers");
  if (matchersNode) collectMatchers(matchersNode);
  if (matchers.length === 0) throw new SelectorSyntaxError("a selector needs at least one label matcher", selector.from);

  const filters: LineFilter[] = [];
  const collectFilters = (node: SyntaxNode): void => {
    for (const c of children(node)) {
      if (c.name === "PipelineStage" && children(c).some((k) => k.name !== "LineFilters" && k.name !== "LineFilter")) {
        throw new SelectorSyntaxError(`${JSON.stringify(text.slice(c.from, c.to))} is not supported in a match selector: only label matchers and line filters (|=, !=, |~, !~) are, as in Promtail`, c.from);
      }
      if (c.name === "PipelineExpr" || c.name === "PipelineStage" || c.name === "LineFilters") collectFilters(c);
      else if (c.name === "LineFilter") {
        const parts = children(c);
        const op = parts[0]?.name === "Filter" ? children(parts[0])[0]?.name : undefined;
        if (parts.length !== 2 || op === undefined || !(op in FILTER_OPS) || parts[1].name !== "String") {
          throw new SelectorSyntaxError(`unsupported line filter ${JSON.stringify(text.slice(c.from, c.to))}: match selectors take |= "text", != "text", |~ "regex" or !~ "regex"`, c.from);
        }
        filters.push({ op: FILTER_OPS[op], value: string(parts[1]), at: parts[1].from });
      } else {
        throw new SelectorSyntaxError(`${JSON.stringify(text.slice(c.from, c.to))} is not supported in a match selector: only label matchers and line filters (|=, !=, |~, !~) are, as in Promtail`, c.from);
      }
    }
  };
  for (const c of children(logExpr)) {
    if (c.name === "Selector") continue;
    if (c.name === "PipelineExpr") collectFilters(c);
    else throw new SelectorSyntaxError(`${JSON.stringify(text.slice(c.from, c.to))} is not supported in a match selector`, c.from);
  }
  return { matchers, filters };
}

/** A compiled selector: does an entry with these labels and this line match? */
export type SelectorMatcher = (labels: Labels, line: string) => boolean;

/** Compiles a parsed selector; throws SelectorSyntaxError for a regex RE2 refuses. */
export function compileSelector(selector: Selector): SelectorMatcher {
  const regex = (pattern: string, at: number): Regex => {
    try {
      return Regex.compile(pattern);
    } catch (err) {
      if (err instanceof RegexSyntaxError) throw new SelectorSyntaxError(err.message, at);
      throw err;
    }
  };
  const labelTests = selector.matchers.map(({ name, op, value, at }): ((labels: Labels) => boolean) => {
    const get = (labels: Labels): string => (Object.hasOwn(labels, name) ? labels[name] : "");
    switch (op) {
      case "=":
        return (labels) => get(labels) === value;
      case "!=":
        return (labels) => get(labels) !== value;
      case "=~": {
        regex(value, at); // refused with the pattern as written
        const re = Regex.compile(`(?s:${value})`); // Prometheus label matchers: anchored, "." matches newlines
        return (labels) => re.matchesFully(get(labels));
      }
      case "!~": {
        regex(value, at); // refused with the pattern as written
        const re = Regex.compile(`(?s:${value})`); // Prometheus label matchers: anchored, "." matches newlines
        return (labels) => !re.matchesFully(get(labels));
      }
    }
  });
  const lineTests = selector.filters.map(({ op, value, at }): ((line: string) => boolean) => {
    switch (op) {
      case "|=":
        return (line) => line.includes(value);
      case "!=":
        return (line) => !line.includes(value);
      case "|~": {
        const re = regex(value, at);
        return (line) => re.test(line);
      }
      case "!~": {
        const re = regex(value, at);
        return (line) => !re.test(line);
      }
    }
  });
  return (labels, line) => labelTests.every((t) => t(labels)) && lineTests.every((t) => t(line));
}
