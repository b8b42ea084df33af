import { render } from 'preact';
import { OptionsForm } from '../../components/OptionsForm.tsx';
import '../../styles/base.css';
import './options.css';

const root = document.getElementById('app');
if (root) render(<OptionsForm />, root);
