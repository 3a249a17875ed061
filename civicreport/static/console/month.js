// The month the co-building pages show: this month in the city's time zone unless ?month= says another.
import { settings } from "../shared/page.js";

export function thisMonth() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: settings.timezone, year: "numeric", month: "2-digit" })
    .formatToParts(new Date());
  return `${parts.find((p) => p.type === "year").value}-${parts.find((p) => p.type === "month").value}`;
}

export function chosenMonth() {
  const asked = new URLSearchParams(location.search).get("month");
  return /^\d{4}-\d{2}$/.test(asked || "") ? asked : thisMonth();
}

export function monthTitle(month) {
  const [year, number] = month.split("-");
  return `${year} 年 ${Number(number)} 月`;
}

// Keep the month in the address so a reload or a shared link shows the same month.
export function rememberMonth(month) {
  const url = new URL(location.href);
  url.searchParams.set("month", month);
  history.replaceState(null, "", url);
}
