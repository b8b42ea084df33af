import { render } from 'preact';
import { InboxApp } from '../../components/InboxApp.tsx';
import '../../styles/base.css';
import './inbox.css';

const root = document.getElementById('app');
if (root) render(<InboxApp />, root);
