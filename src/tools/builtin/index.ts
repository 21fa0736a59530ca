import type { Tool } from '../tool.js';
import { calculatorTool } from './calculator.js';
import { currentTimeTool } from './current-time.js';

/** Built-in tools, attached to an agent by name in `configuration.tools`. */
export const BUILTIN_TOOLS: ReadonlyMap<string, Tool> = new Map(
  [currentTimeTool, calculatorTool].map((tool) => [tool.name, tool]),
);
