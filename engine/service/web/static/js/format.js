// Countdowns and times as people read them, in the page's language:
// "还剩 1 工作小时 20 分" / "1 working hour 20 min left", "已超时 35 分" / "35 min overdue".
import { lang } from "./i18n.js";

function parts(seconds, business) {
  if (seconds === null || seconds === undefined) return "?"; // beyond what the calendar can compute
  const minutes = Math.floor(seconds / 60);
  const en = lang() === "en";
  const out = [];
  if (!business && minutes >= 24 * 60) {
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    out.push(en ? `${days} d` : `${days} 天`);
    if (hours) out.push(en ? `${hours} h` : `${hours} 小时`);
    return out.join(" ");
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours) {
    if (business) out.push(en ? `${hours} working hour${hours === 1 ? "" : "s"}` : `${hours} 工作小时`);
    else out.push(en ? `${hours} h` : `${hours} 小时`);
  }
  if (rest || !hours) {
    if (minutes === 0) out.push(en ? "under 1 min" : "不到 1 分");
    else if (!hours && business) out.push(en ? `${rest} working min` : `${rest} 工作分钟`);
    else out.push(en ? `${rest} min` : `${rest} 分`);
  }
  return out.join(" ");
}

export function duration(seconds, business) {
  return parts(Math.max(0, seconds), business);
}

// {text, late} for one running clock of GET /v1/cases/{id} (its "deadlines" entries).
export function countdown(clock) {
  const en = lang() === "en";
  let text;
  if (clock.overdue) {
    const by = parts(clock.overdue_seconds, clock.business);
    text = en ? `${by} overdue` : `已超时 ${by}`;
  } else {
    const left = parts(clock.remaining_seconds, clock.business);
    text = en ? `${left} left` : `还剩 ${left}`;
  }
  if (clock.paused) text = (en ? "paused, " : "已暂停，") + text;
  return { text, late: Boolean(clock.overdue) };
}

export function formatTime(epoch, timezone = "Asia/Shanghai") {
  if (epoch === null || epoch === undefined) return "";
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const p = Object.fromEntries(format.formatToParts(new Date(epoch * 1000)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
