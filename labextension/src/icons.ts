/** The MLOps icon (side panel tab, toolbar button, palette). */
import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <circle cx="5" cy="6" r="2.5"/>
    <circle cx="5" cy="18" r="2.5"/>
    <circle cx="19" cy="12" r="2.5"/>
    <path d="M7 6.6h3.2l4.6 4.4H16.5v2h-1.7l-4.6 4.4H7v-1.6h2.6l3.8-3.8-3.8-3.8H7z"/>
  </g>
</svg>`;

export const mlopsIcon = new LabIcon({ name: 'jupyter-mlops:mlops', svgstr: svg });
