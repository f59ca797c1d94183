// The pages' words in Chinese (first) and English. The choice is remembered in localStorage and sets
// <html lang>, so screen readers and fonts follow it.
const KEY = "cf.lang";

const WORDS = {
  zh: {
    app: "投诉工作台", skip: "跳到正文", nav: "主导航", queue: "我的队列", new_case: "新投诉", report: "报表", studio: "流程工作室",
    log_in: "登录", log_out: "退出", switch: "English", user: "用户名", password: "密码",
    login_title: "登录投诉工作台", login_failed: "登录失败：{detail}", logged_out: "已退出。",
    queue_title: "我的队列", filters: "筛选", all: "全部", state: "状态", process: "流程", phone: "客户电话",
    case: "案件", deadline: "最紧的期限", deadline_name: "期限", due: "到期", why: "来由", assignee: "处理人", none: "无",
    why_held: "我持有", why_role: "我的角色", why_escalated: "已升级到我", why_all: "全部在办", empty_queue: "队列里没有案件。",
    queue_all_title: "全部在办案件", search: "搜索", clear_search: "清除", search_results: "搜索结果",
    no_results: "没有符合条件的案件。", customer: "客户（姓名、地址等）", opened_from: "开案日期从", opened_to: "开案日期到",
    case_status: "办理情况", case_open: "在办",
    provisional: "预估", provisional_hint: "该年节假日安排尚未公布，期限按估算日历计算",
    overdue_count: "{n} 件已超时", cases_count: "共 {n} 件",
    new_title: "登记新投诉", choose_process: "投诉流程", role: "以何角色受理", required: "必填",
    pii: "个人信息", pii_hint: "个人信息：只用于处理本投诉", submit_new: "登记并开案", opened: "已开案 {id}",
    yes: "是", no: "否", choose: "请选择",
    case_title: "案件 {id}", record: "投诉记录", clocks: "进行中的期限", no_clocks: "没有进行中的期限。",
    budget: "时限", used: "已用", remaining: "剩余", status: "状况", breached: "已违约", paused: "已暂停",
    escalated_to: "已升级第 {step}/{of} 级：{roles}", business: "工作时间", wall: "自然时间",
    actions: "现在可以做的操作", no_actions: "您现在没有可做的操作。", as_role: "以 {role} 身份", do_it: "执行",
    done: "已执行：{action}", holder: "处理人", claim: "认领", release: "放回角色队列", assign_to: "指派给（用户名）",
    assign: "指派", assigned: "处理人已更新。", owner: "当前负责角色", history: "处理经过",
    stale: "这个案件在您打开后已被别人更新（现在是第 {revision} 版），您的操作没有执行。页面已刷新，请查看最新情况后再决定。",
    refused: "未执行：{detail}", closed: "已结案", revision: "版本",
    ev_started: "开案", ev_acted: "{action}：{from} → {to}", ev_met: "按时完成期限：{deadline}",
    ev_met_late: "逾期完成期限：{deadline}", ev_breached: "违约：{deadline}（应于 {due} 前）",
    ev_escalated: "升级第 {step}/{of} 级：通知 {role}", ev_warning: "期限预警：{deadline}", ev_other: "{kind}",
    report_title: "管理报表", period: "期间（如 2025-09、2025-W40、2025-09-29..2025-10-10）",
    households: "入住户数（计算投诉率）", show_report: "生成报表", export_csv: "导出 CSV",
    on_time: "按时完成率", escalations: "升级次数（按角色）", complaint_rate: "投诉率与 5% 目标",
    target: "目标", cases_opened: "本期开案 {n} 件", no_data: "本期没有数据。", count: "次数",
    rate: "比率", review: "待复核清单", age: "已开（小时）", csv_saved: "已导出 {name}",
    loading: "正在加载…", need_login: "请先登录。", not_found: "找不到这个页面。", error: "出错了：{detail}",
    updated: "更新于 {time}", refresh: "刷新", system: "系统（期限）",
  },
  en: {
    app: "Complaint desk", skip: "Skip to content", nav: "Main", queue: "My queue", new_case: "New complaint",
    report: "Report", studio: "Studio", log_in: "Log in", log_out: "Log out", switch: "中文", user: "User", password: "Password",
    login_title: "Log in to the complaint desk", login_failed: "Login failed: {detail}", logged_out: "Logged out.",
    queue_title: "My queue", filters: "Filters", all: "All", state: "State", process: "Process",
    phone: "Customer phone", case: "Case", deadline: "Most urgent deadline", deadline_name: "Deadline", due: "Due", why: "Why mine",
    assignee: "Held by", none: "nobody", why_held: "I hold it", why_role: "my role", why_escalated: "escalated to me",
    why_all: "all open cases", queue_all_title: "All open cases", search: "Search", clear_search: "Clear",
    search_results: "Search results", no_results: "No case matches.", customer: "Customer (name, address, ...)",
    opened_from: "Opened from", opened_to: "Opened until", case_status: "Case", case_open: "open",
    empty_queue: "No cases in your queue.", provisional: "estimated",
    provisional_hint: "The year's holiday schedule is not published yet; the deadline uses an estimated calendar",
    overdue_count: "{n} overdue", cases_count: "{n} cases",
    new_title: "Record a new complaint", choose_process: "Complaint process", role: "Taken in the role",
    required: "required", pii: "personal data", pii_hint: "Personal data: used only to handle this complaint",
    submit_new: "Record and open the case", opened: "Opened case {id}", yes: "yes", no: "no", choose: "Choose",
    case_title: "Case {id}", record: "The record", clocks: "Running deadlines", no_clocks: "No deadline is running.",
    budget: "Budget", used: "Used", remaining: "Remaining", status: "Status", breached: "breached", paused: "paused",
    escalated_to: "escalated, step {step}/{of}: {roles}", business: "business time", wall: "clock time",
    actions: "What you can do now", no_actions: "There is nothing you can do on this case now.",
    as_role: "as {role}", do_it: "Do it", done: "Done: {action}", holder: "Held by", claim: "Claim",
    release: "Give back to the role", assign_to: "Assign to (user id)", assign: "Assign",
    assigned: "The holder was updated.", owner: "Owner role", history: "History",
    stale: "Someone else changed this case after you opened it (it is now revision {revision}); your action was not taken. The page has been refreshed: look at the case again before you act.",
    refused: "Not done: {detail}", closed: "closed", revision: "revision",
    ev_started: "Opened the case", ev_acted: "{action}: {from} → {to}", ev_met: "Met on time: {deadline}",
    ev_met_late: "Met late: {deadline}", ev_breached: "BREACHED: {deadline} (was due {due})",
    ev_escalated: "Escalation step {step}/{of}: notified {role}", ev_warning: "Deadline warning: {deadline}",
    ev_other: "{kind}",
    report_title: "Management report", period: "Period (e.g. 2025-09, 2025-W40, 2025-09-29..2025-10-10)",
    households: "Occupied households (for the complaint rate)", show_report: "Show the report",
    export_csv: "Export CSV", on_time: "On-time rate", escalations: "Escalations by role",
    complaint_rate: "Complaint rate against the 5% target", target: "target", cases_opened: "{n} cases opened",
    no_data: "No data in this period.", count: "Count", rate: "Rate", review: "Review list", age: "Open (hours)",
    csv_saved: "Exported {name}", loading: "Loading…", need_login: "Please log in first.",
    not_found: "There is no such page.", error: "Something went wrong: {detail}", updated: "Updated {time}",
    refresh: "Refresh", system: "system (deadlines)",
  },
};

export function lang() {
  return localStorage.getItem(KEY) === "en" ? "en" : "zh";
}

export function setLang(value) {
  localStorage.setItem(KEY, value === "en" ? "en" : "zh");
  applyLang();
}

export function applyLang() {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
}

export function t(key, vars = {}) {
  const text = WORDS[lang()][key] ?? WORDS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// A title from the API in the page's language: the English one when there is one and English is chosen.
export function pick(zh, en) {
  return lang() === "en" && en ? en : zh;
}
