import { useEffect, useState } from 'react';
import {
  loadThreadMessages,
  ParleyChat,
  type ParleyChatConfig,
  type ParleyUIMessage,
} from '../../../docs/examples/use-chat.tsx';

/**
 * The test page: the docs' useChat example (docs/examples/use-chat.tsx) fed by the page's query,
 * `?baseUrl=…&apiKey=…&agentId=…&threadId=…`. Nothing is built in: the test names the server, its
 * key, the agent and the thread of each run. (A key in a page URL is for this test page only; a
 * real page gets its credentials from its own backend.)
 */
function configFromQuery(): ParleyChatConfig {
  const query = new URLSearchParams(window.location.search);
  const read = (name: string) => {
    const value = query.get(name);
    if (!value) throw new Error(`The page URL needs ?${name}=`);
    return value;
  };
  return { baseUrl: read('baseUrl'), apiKey: read('apiKey'), agentId: read('agentId'), threadId: read('threadId') };
}

export function App() {
  const [config] = useState(configFromQuery);
  const [initialMessages, setInitialMessages] = useState<ParleyUIMessage[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    loadThreadMessages(config).then(setInitialMessages, setError);
  }, [config]);
  if (error) return <p role="alert">{error.message}</p>;
  // useChat reads its initial messages once: the chat mounts when they are loaded.
  if (!initialMessages) return <p className="loading">Loading…</p>;
  return <ParleyChat config={config} initialMessages={initialMessages} />;
}
