// A stand-in for the admin console's build in server tests (the browser test serves the real one).
document.getElementById('app').textContent = 'admin console';
