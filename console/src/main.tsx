import { render } from 'preact';
import { App } from './app';
import { startTelemetry } from './telemetry';
import './style.css';

// Telemetry first, so the page load and the first fetches are traced; the app renders either way.
startTelemetry()
  .catch((err: unknown) => console.warn('browser telemetry is off:', err))
  .finally(() => render(<App />, document.getElementById('app')!));
