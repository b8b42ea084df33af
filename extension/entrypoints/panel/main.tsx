import { render } from 'preact';
import { PanelApp } from '../../components/PanelApp.tsx';
import '../../styles/base.css';
import './panel.css';

const root = document.getElementById('app');
if (root) render(<PanelApp />, root);
