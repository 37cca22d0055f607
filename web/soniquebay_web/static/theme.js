// Dark or light: the listener's last choice (kept in this browser), else the system's.
function sbApplyTheme() {
  const theme = localStorage.getItem("sb-theme");
  if (theme && window.Quasar) Quasar.Dark.set(theme === "dark");
}
function sbToggleTheme() {
  Quasar.Dark.set(!Quasar.Dark.isActive);
  localStorage.setItem("sb-theme", Quasar.Dark.isActive ? "dark" : "light");
}
window.addEventListener("load", sbApplyTheme);
