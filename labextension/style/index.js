import './base.css';
import './runs.css';
import './models.css';
