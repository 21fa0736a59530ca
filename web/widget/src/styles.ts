/**
 * The widget's stylesheet, inside its shadow root: the host page's rules do not reach in, and
 * `all: initial` on the root stops the properties that inherit through the shadow boundary (a
 * host's huge font, its colours). Sizes are in px, never rem: rem follows the host's `<html>`.
 */
export function stylesheet(color: string): string {
  return `
:host { all: initial !important; }
.root { all: initial; --accent: ${color}; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; position: fixed; bottom: 20px; right: 20px; z-index: 2147483000; display: block; }
.root.left { right: auto; left: 20px; }
.root *, .root *::before, .root *::after { box-sizing: border-box; font: inherit; color: inherit; }
[hidden] { display: none !important; }
button { cursor: pointer; border: 0; background: none; padding: 0; margin: 0; }
button:focus-visible, textarea:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.launcher { width: 56px; height: 56px; border-radius: 50%; background: var(--accent); color: #fff;
  display: flex; align-items: center; justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launcher svg { width: 26px; height: 26px; fill: #fff; }
.panel { position: absolute; bottom: 72px; right: 0; width: 360px; max-width: calc(100vw - 40px);
  height: 520px; max-height: calc(100vh - 110px); background: #fff; border-radius: 12px;
  box-shadow: 0 8px 30px rgba(0,0,0,.25); display: flex; flex-direction: column; overflow: hidden; }
.left .panel { right: auto; left: 0; }
.header { background: var(--accent); color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
.header h2 { margin: 0; flex: 1; font-size: 15px; font-weight: 600; }
.close { color: #fff; font-size: 20px; line-height: 1; width: 28px; height: 28px; border-radius: 6px; }
.status { padding: 8px 14px; background: #fef3c7; color: #78350f; font-size: 13px; }
.status.refused, .status.error { background: #fee2e2; color: #7f1d1d; }
.log { flex: 1; overflow-y: auto; background: #f8fafc; }
.messages { list-style: none; margin: 0; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.message { max-width: 85%; display: flex; flex-direction: column; gap: 4px; }
.message .text { padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.message.user { align-self: flex-end; }
.message.user .text { background: var(--accent); color: #fff; border-bottom-right-radius: 4px; }
.message.assistant { align-self: flex-start; }
.message.assistant .text { background: #fff; border: 1px solid #e5e7eb; border-bottom-left-radius: 4px; }
.message.greeting .text { color: #4b5563; }
.message.failed .text { border-color: #fca5a5; color: #7f1d1d; }
.note { font-size: 12px; color: #6b7280; padding-left: 4px; }
.feedback { display: flex; gap: 4px; }
.feedback button { width: 30px; height: 26px; border-radius: 6px; border: 1px solid #e5e7eb; background: #fff;
  display: flex; align-items: center; justify-content: center; }
.feedback svg { width: 15px; height: 15px; fill: #9ca3af; }
.feedback .down svg { transform: rotate(180deg); }
.feedback button[aria-pressed="true"] { border-color: var(--accent); }
.feedback button[aria-pressed="true"] svg { fill: var(--accent); }
.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; align-items: flex-end; }
.composer textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 8px; padding: 8px 10px;
  min-height: 38px; max-height: 120px; background: #fff; display: block; }
.send, .stop { height: 38px; padding: 0 14px; border-radius: 8px; background: var(--accent); color: #fff; font-weight: 600; }
.stop { background: #374151; }
.send:disabled { opacity: .5; cursor: default; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
}
