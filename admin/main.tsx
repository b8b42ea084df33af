import { render } from 'preact';
import { App } from './components/App.tsx';
import { AdminApi } from './lib/api.ts';
import 'uplot/dist/uPlot.min.css';
import './admin.css';

const root = document.getElementById('app');
if (root !== null) {
  // The page's "Loading…" line is plain HTML, not Preact's: it goes before the app renders.
  root.replaceChildren();
  render(<App api={new AdminApi()} />, root);
}
