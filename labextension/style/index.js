import './footer.css';
import './settings.css';
import './chat.css';
