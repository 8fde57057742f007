import { render } from 'preact';
import { HttpApi } from './api.js';
import { App } from './app.js';
import './style.css';

render(<App api={new HttpApi()} />, document.getElementById('app')!);
