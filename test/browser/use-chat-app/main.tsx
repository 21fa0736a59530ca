import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';

// Not under StrictMode: its development double mount would make useChat({resume: true}) send two
// resume requests per load (the first aborted), and each test waits for the one.
createRoot(document.getElementById('root')!).render(<App />);
