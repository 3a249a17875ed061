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

const PICKER_MONTHS = 24; // how far back the month list goes

// The month picker in Chinese: a <select> of "2026 年 12 月" … for the last two years (and the
// chosen month if older); <input type="month"> speaks the browser's language, not the city's.
export function fillMonths(select, chosen) {
  const [year, month] = thisMonth().split("-").map(Number);
  const months = Array.from({ length: PICKER_MONTHS }, (_, back) => {
    const date = new Date(Date.UTC(year, month - 1 - back, 1));
    return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
  });
  if (!months.includes(chosen)) months.push(chosen);
  select.replaceChildren(...months.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = monthTitle(value);
    return option;
  }));
  select.value = chosen;
}

// Keep the month in the address so a reload or a shared link shows the same month.
export function rememberMonth(month) {
  const url = new URL(location.href);
  url.searchParams.set("month", month);
  history.replaceState(null, "", url);
}

// A wall-clock time of the city ("2026-12-25T18:00" from a datetime-local input) as an ISO instant,
// whatever the browser's own time zone: the API wants an offset, the staff think in city time.
export function cityInstant(local) {
  const guess = new Date(`${local}Z`);
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: settings.timezone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  }).formatToParts(guess);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  const shown = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"));
  return new Date(guess.getTime() - (shown - guess.getTime())).toISOString();
}
