import { Alerts } from './alerts';
import { Dashboards } from './dashboards';
import { Faults } from './faults';
import { ServiceGraph } from './graph';
import { useRoute } from './route';
import { TraceView } from './trace';
import { Traces } from './traces';

const TABS: [string, string][] = [
  ['traces', 'Traces'],
  ['graph', 'Service graph'],
  ['dashboards', 'Dashboards'],
  ['faults', 'Faults & scenarios'],
  ['alerts', 'Alerts'],
];

export function App() {
  const [page, arg] = useRoute();
  return (
    <>
      <header>
        <strong>Meridian console</strong>
        <nav>
          {TABS.map(([id, label]) => (
            <a href={`#/${id}`} class={page === id || (page === 'trace' && id === 'traces') ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {page === 'trace' && arg ? <TraceView id={arg} /> : page === 'faults' ? <Faults /> : page === 'alerts' ? <Alerts /> : page === 'graph' ? <ServiceGraph /> : page === 'dashboards' ? <Dashboards uid={arg} /> : <Traces />}
      </main>
    </>
  );
}
