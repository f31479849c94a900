import './footer.css';
import './settings.css';
