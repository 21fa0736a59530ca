import { ExtractionError, type ExtractedDocument } from '../document.js';
import { SectionCollector } from './section-collector.js';

/**
 * A JSON file: an array becomes one section per element, an object one section per top-level
 * key (with the key as its heading), a scalar one section. Objects are written as `key: value`
 * lines with nested keys joined by dots (`address.city: Paris`, `tags.0: x`); arrays of scalars
 * as one comma-separated line. Below MAX_DEPTH a value is written as compact JSON.
 */
const MAX_DEPTH = 8;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function extractJson(text: string): ExtractedDocument {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (error) {
    throw Object.assign(new ExtractionError('the file is not valid JSON'), { cause: error });
  }
  const collector = new SectionCollector();
  if (Array.isArray(value)) {
    for (const element of value) collector.add(render(element));
  } else if (isObject(value)) {
    for (const [key, element] of Object.entries(value)) {
      collector.heading(1, key);
      collector.add(render(element));
    }
  } else {
    collector.add(scalar(value));
  }
  return { title: null, sections: collector.sections, pageCount: null };
}

function render(value: Json): string {
  if (Array.isArray(value) && value.every((element) => !isContainer(element))) return value.map(scalar).join(', ');
  if (!isContainer(value)) return scalar(value);
  return lines({ value, prefix: '', depth: 0 }).join('\n');
}

function lines(input: { value: Json; prefix: string; depth: number }): string[] {
  const { value, prefix, depth } = input;
  if (!isContainer(value)) return [`${prefix}: ${scalar(value)}`];
  if (Array.isArray(value) && value.every((element) => !isContainer(element))) {
    return [`${prefix}: ${value.map(scalar).join(', ')}`];
  }
  if (depth >= MAX_DEPTH) return [`${prefix}: ${JSON.stringify(value)}`];
  return Object.entries(value).flatMap(([key, element]) =>
    lines({ value: element, prefix: prefix === '' ? key : `${prefix}.${key}`, depth: depth + 1 }),
  );
}

function isContainer(value: Json): value is Json[] | { [key: string]: Json } {
  return typeof value === 'object' && value !== null;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return isContainer(value) && !Array.isArray(value);
}

function scalar(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
