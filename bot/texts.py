"""Everything the bot says, in one place: short, polite, for a phone screen. The common questions and their answers
are data in bot/faq.toml, loaded here as FAQ; the keywords and help lines are declared by the flows (bot/catalogue.py).
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

MAX_IMAGES = 9
USCC_EXAMPLE = "91231100MA1B2C3D82"

# --- general --------------------------------------------------------------------------------------------
WELCOME = (
    "您好，欢迎关注黑河市“合规一码通”！\n"
    "企业可在这里申请市场主体专用信用报告，替代到各部门开具的无违法记录证明，报告附二维码供查验。\n"
    "第一步请回复「绑定企业」；已绑定的请回复「申请报告」。回复「帮助」查看全部功能。"
)
HELP = (
    "可回复以下关键词办理：\n{commands}\n常见问题可直接提问，例如：{questions}。\n"
    "办理中可随时回复「返回」回到上一步，回复「取消」结束。\n办事指南：{guide}"
)
HELP_LINE = "「{keyword}」{line}"
HELP_IN_FLOW = "您正在办理「{title}」，可按上一条提示继续回复。"
DEFAULT = (
    "抱歉，没能理解您的意思。开具报告可以一句话说明领域、期间和用途，例如「近三年全部领域，用于银行贷款」；"
    "回复「帮助」查看全部功能和常见问题。"
)
DEFAULT_UNBOUND = (
    "抱歉，没能理解您的意思。使用本服务请先回复「绑定企业」，按提示用企业登记的手机号验证；回复「帮助」查看全部功能。"
)
GREETING = (
    "您好！开具专用信用报告请回复「申请报告」，也可以一句话说明，例如「近三年全部领域，用于银行贷款」。"
    "回复「帮助」查看全部功能。"
)
GREETING_UNBOUND = (
    "您好！使用本服务请先回复「绑定企业」，按提示输入统一社会信用代码和登记手机号收到的验证码。"
    "回复「帮助」查看全部功能。"
)
UNBOUND_NEXT = "使用本服务请先回复「绑定企业」，按提示用企业登记的手机号验证。"
FAQ_IN_FLOW = "——\n您正在办理「{title}」：{prompt}"
SWITCHED_TO_APPLY = "已结束「{title}」，为您办理专用信用报告。"
CANCELLED = "已取消「{title}」。如需办理其他事项，请回复「帮助」。"
NOTHING_TO_CANCEL = "当前没有正在办理的事项。回复「帮助」查看可办理的事项。"
NOTHING_TO_RESUME = "当前没有可继续的办理事项。回复「帮助」查看可办理的事项。"
LAPSED = "您办理的「{title}」已超过30分钟未操作，已暂停。回复「继续」从中断处接着办理，或回复「取消」放弃。"
RESUMED = "已恢复「{title}」。"
CANNOT_GO_BACK = "这一步不能返回。"
FIRST_STEP = "已经是第一步了。"
VOICE_EMPTY = "抱歉，没能识别这段语音，请改用文字回复。"
IMAGE_OUTSIDE = "已收到图片。目前没有需要上传照片的办理事项；提交异议申诉、信用修复或人工审核绑定时，请按提示发送照片。"
IMAGE_NOT_EXPECTED = "这一步无需发送图片。"
UNSUPPORTED = "抱歉，暂不支持处理此类消息，请发送文字。回复「帮助」查看可办理的事项。"
PENDING_HEAD = "【待查看的消息】"

# Requests in one sentence the bot understands: shown in the 办事指南 (webhooks/guide.py).
REQUEST_EXAMPLES = (
    "申请近三年全部领域的报告，用于银行贷款",
    "要一份市场监管和消防安全的报告，近一年，参加招投标用",
    "社保、环保、住建，近两年，政府采购",
    "除了金融监管以外都要，近两年，招投标",
)

# --- forms ----------------------------------------------------------------------------------------------
SUMMARY_HEAD = "请核对「{title}」信息："
SUMMARY_FOOT = "无误请回复「确认」；需修改请回复序号，如「改2」；回复「取消」放弃。"
CONFIRM_HOW = "请回复「确认」提交，或回复要修改的序号，如「改2」；回复「取消」放弃。"
IMAGE_RECEIVED = "已收到第 {count} 张照片。可继续发送，发完请回复「完成」。"
IMAGES_FULL = "最多可发送 {limit} 张照片，请回复「完成」。"
IMAGE_REQUIRED = "还没有收到照片，请先发送照片，再回复「完成」。"
IMAGE_WAITING = "请以图片消息发送照片，发完回复「完成」。"
IMAGE_SKIP_HINT = "没有材料可回复「无」。"
ENTERPRISE_LINE = "企业：{name}"
PERIOD_LINE = "{start} 至 {end}"
PURPOSE_GROUP = "【{category}】{items}"
PICK_ENTERPRISE = "您绑定了多家企业，请回复序号选择："
ACTIVE_MARK = "（当前）"
PICK_BY_NUMBER = "请回复企业序号，例如「1」。"

# --- binding --------------------------------------------------------------------------------------------
NOT_BOUND_ANY = "您尚未绑定该企业，无法查看或办理。请回复「绑定企业」完成绑定。"
NEED_BINDING = "办理「{title}」需要先绑定企业。请回复「绑定企业」，按提示用企业登记的手机号验证。"
BIND_ASK_USCC = f"请回复企业的18位统一社会信用代码（见营业执照），例如「{USCC_EXAMPLE}」。"
BIND_BAD_USCC = "输入的代码有误：{reason}。请核对营业执照后重新输入，例如「" + USCC_EXAMPLE + "」。"
BIND_UNKNOWN_USCC = "黑河市企业登记信息中未查到该代码，请核对后重新输入；如为新设立企业，请隔日再试。"
BIND_ALREADY = "您已绑定「{name}」，现已设为当前企业。回复「申请报告」即可开具报告。"
BIND_LOCKED = "验证码错误次数过多，为保护企业信息安全，您的微信号已暂停验证30分钟，请稍后再试。"
BIND_TOO_MANY_CODES = "您1小时内获取验证码的次数已达上限，请稍后再试。"
BIND_CODE_VOID = "验证码已连续输错 {count} 次，已失效。请回复「重发」获取新的验证码。"
BIND_ENTERPRISE_BUSY = (
    "该企业登记手机号今日收到的验证短信已达上限（为防止短信骚扰）。您可以申请人工审核绑定："
    "请依次发送营业执照和授权书照片，由工作人员审核。"
)
BIND_NEW_OWNER_NOTICE = (
    "「{name}」于 {when} 新增一位绑定的微信用户，可为该企业申请报告。如非贵企业授权，请联系{issuer}。{contact}"
)
BIND_ASK_CODE = "验证码已发送至企业登记的手机 {mobile}，5分钟内有效。请回复6位验证码（收不到可回复「重发」）。"
BIND_CODE_RESENT = "已重新发送验证码至 {mobile}，5分钟内有效，请回复6位验证码。"
BIND_CODE_FORMAT = "验证码为6位数字，例如「123456」，请重新输入（收不到可回复「重发」）。"
BIND_CODE_EXPIRED = "验证码已过期（5分钟内有效）。请回复「重发」获取新的验证码。"
BIND_CODE_WRONG = "验证码不正确，还可以再试 {left} 次。"
BIND_DONE = "绑定成功！当前企业：「{name}」。\n回复「申请报告」开具专用信用报告。"
BIND_REVIEW_AFTER_MOBILE_CHANGE = (
    "验证码正确。「{name}」的登记手机号近期发生过变更，为保护企业信息安全，本次绑定须经信用办工作人员人工审核，"
    "一般3个工作日内办结，结果将通过本公众号通知您。"
)
BIND_NO_MOBILE = (
    "企业登记信息中没有可用的手机号，无法短信验证。您可以申请人工审核绑定："
    "请依次发送营业执照和授权书照片，由信用办工作人员审核。"
)
SMS_CODE = "【信用黑河】验证码 {code}，用于在“合规一码通”绑定企业，5分钟内有效。如非本人操作，请忽略。"
REVIEW_ASK_LICENCE = "请发送营业执照照片（可多张），发完回复「完成」。"
REVIEW_ASK_AUTH = "请发送加盖公章的授权书照片（可多张），发完回复「完成」。"
REVIEW_PENDING = "您已提交过该企业的人工审核绑定申请，正在审核中，审核结果将通过本公众号通知您。"
REVIEW_DONE = "已提交人工审核绑定申请，一般3个工作日内办结，结果将通过本公众号通知您。"
PHOTOS = "{count} 张照片"
NO_PHOTOS = "无"
SWITCH_ONE = "您目前只绑定了「{name}」，无需切换。如需绑定其他企业，请回复「绑定企业」。"
SWITCH_DONE = "已切换，当前企业：「{name}」。"
UNBIND_DONE = "已解绑「{name}」。"
UNBIND_ACTIVE_NOW = "当前企业：「{name}」。"

# --- reports --------------------------------------------------------------------------------------------
APPLY_ASK_DOMAINS = "请选择报告包含的领域，回复「全部」，或回复序号/名称，如「1、3」「社保、环保」："
APPLY_ASK_PERIOD = (
    "请选择报告期间：近1年、近2年、近3年或近5年，也可回复起止日期，如「2023-01-01至2025-12-31」（最长5年）。"
)
APPLY_ASK_PURPOSE = "请回复报告用途的序号或名称："
APPLY_PURPOSE_OTHER = "15. 其他（请回复「其他：具体用途」）"
APPLY_ALL_DOMAINS = "全部（{count}个领域）"
APPLY_SOME_DOMAINS = "{names}（{count}个领域）"
APPLY_EXCLUDED = "   不含：{names}"
APPLY_NOT_A_DOMAIN = "「{name}」不是报告可选的领域，未选入。{near}"
APPLY_NEAR_DOMAINS = "相近的领域有：{names}，如需要请回复「加上{first}」。"
APPLY_PERIOD_WRONG = "{message}"
APPLY_SUPERSEDES = (
    "注意：本企业已有同一用途的有效报告 {numbers}。确认后将出具新报告，原报告显示「已被新报告替代」。"
)
APPLY_SUPERSEDE_FOOT = (
    "回复「确认」出具新报告并替代原报告；回复「保留」出具新报告且原报告仍然有效；需修改请回复序号，如「改2」；回复「取消」放弃。"
)
APPLY_SUPERSEDE_NOTICE = (
    "「{name}」的另一位绑定用户于 {when} 申请了用途相同（{purpose}）的新报告。新报告出具后，您申请的报告 {number} "
    "将显示「已被新报告替代」。如有疑问请联系{issuer}。{contact}"
)
APPLY_QUEUED = "报告正在生成，通常几秒内即推送二维码和报告链接，请稍候。可回复「我的报告」查看进度。"
APPLY_DUPLICATE = "相同的报告正在生成中，请勿重复申请，生成后将推送给您。"
APPLY_FROM_SENTENCE = "好的，为您办理专用信用报告。"
MY_REPORTS_HEAD = "「{name}」最近的报告："
MY_REPORTS_NONE = "「{name}」暂无已生成的报告。回复「申请报告」开具。"
MY_REPORTS_ITEM = "{n}. {number}【{status}】\n有效期至 {valid_until}\n{link}"
MY_REPORTS_BUILDING = "正在生成：{count} 份，生成后将推送给您。"
MY_REPORTS_FAILED = "生成失败：{count} 份（{when}申请），请重新申请；如多次失败请致电信用办。"
MY_REPORTS_FOOT = "回复序号查看详情并重发二维码，「撤销1」撤销报告，「查看记录1」查看查验记录。"
REPORT_DETAIL = (
    "{number}【{status}】\n用途：{purpose}\n期间：{start} 至 {end}\n有效期至 {valid_until}\n{link}\n{qr}"
)
REPORT_DETAIL_QR = "已重新发送该报告的二维码，请稍候查收；也可直接把链接发给查验单位。"
REPORT_DETAIL_NO_QR = "该报告已不是有效状态，不再发送二维码；如需使用请回复「申请报告」重新开具。"
QR_RESENT = "已重新发送「{name}」报告 {number} 的二维码（有效期至 {valid_until}），请稍候查收。\n查验链接：{link}"
QR_NONE = "「{name}」暂无有效的报告，无需重发二维码。回复「申请报告」开具新报告。"
REPORT_PICK = "请回复报告序号，例如「1」「撤销1」「查看记录1」。"
REVOKE_ASK = "确认撤销报告 {number}？撤销后查验将显示「已撤销」，且不可恢复。回复「确认」撤销，回复「返回」不撤销。"
REVOKE_ALREADY = "报告 {number} 已撤销，无需重复操作。"
REVOKE_DONE = "报告 {number} 已撤销。"
REVOKE_KEPT = "报告未撤销。"
REVOKE_HOW = "请回复「确认」撤销，或回复「返回」不撤销。"
VIEWS_NONE = "报告 {number} 暂无查验记录。"
VIEWS_HEAD = "报告 {number} 共被查验 {count} 次，最近的记录："
VIEWS_UNIT_UNKNOWN = "未填写单位"

# --- cases ----------------------------------------------------------------------------------------------
CASE_NO_RECORDS = "「{name}」暂无可{title}的处罚记录。"
CASE_ASK_RECORD = "请回复要{title}的处罚记录序号："
CASE_RECORD_LINE = "{n}. {date} {authority}\n{decision_no}"
CASE_NOT_ELIGIBLE = "{reason}\n可选择其他记录，或回复「取消」结束。"
CASE_ASK_REASON = "请简要说明{title}的理由（至少5个字），例如「{example}」。"
CASE_REASON_SHORT = "理由请至少写5个字，例如「{example}」。"
CASE_REASON_LONG = "理由请控制在500字以内。"
CASE_ASK_EVIDENCE = "如有证明材料，请以图片发送（可多张），发完回复「完成」；没有请回复「无」。"
CASE_ASK_COMMITMENT = "请发送加盖公章的《信用承诺书》照片（必须提供），发完回复「完成」。"
CASE_ASK_FULFILLED = "该处罚是否已履行完毕（如罚款已缴清、已按要求整改）？请回复「是」或「否」。"
CASE_NOT_FULFILLED = "信用修复须先履行行政处罚决定（如缴清罚款），履行完毕后再申请。回复「取消」结束。"
CASE_YES_NO = "请回复「是」或「否」。"
CASE_OPENED = "{title}已提交，编号 {number}。\n承办部门将在 {deadline} 前办结，结果将通过本公众号通知您。"
OBJECTION_EXAMPLE = "该罚款已于2025年3月撤销，记录未更新"
REPAIR_EXAMPLE = "罚款已缴清，已按要求完成整改"



# --- answers the parsers cannot take (each with an example of a right one) -----------------------------
PICK_RANGE = "请回复 1 到 {count} 之间的序号，例如「1」。"
EDIT_RANGE = "没有第 {number} 项。请回复 1 到 {count} 之间的序号，例如「改1」。"
PERIOD_EXAMPLE = "例如「近3年」或「2023-01-01至2025-12-31」"
PERIOD_FUTURE = "结束日期不能晚于今天（{today}），{example}。"
PERIOD_BACKWARDS = "开始日期应早于结束日期，{example}。"
PERIOD_TOO_LONG = "报告期间最长 5 年，{example}。"
PERIOD_NO_YEARS = "请写明年数，例如「近3年」。"
PERIOD_TOO_LONG_RELATIVE = "报告期间最长 5 年，例如「近5年」或「近3年」。"
PERIOD_ASK_AGAIN = "请回复报告期间，例如「近3年」，或起止日期「2023-01-01至2025-12-31」（最长 5 年）。"
PERIOD_NO_SUCH_DATE = "日期「{date}」不存在，请检查后重新输入，{example}。"
PERIOD_BOTH_ENDS = "请同时写明开始和结束日期，例如「2023-01-01至2025-12-31」或「2024-01-01至今」。"
DOMAIN_RANGE = "领域序号应在 1 到 {count} 之间，例如「1、3」；全部领域请回复「全部」。"
DOMAIN_ASK_AGAIN = "请回复领域序号或名称，例如「1、3」或「社保、环保」；全部领域请回复「全部」。"
DOMAIN_UNKNOWN = "「{name}」不是报告可选的领域。{hint}"
DOMAIN_NEAR = "相近的领域有：{names}。"
PURPOSE_OWN_WORDS = "请写明具体用途，例如「其他：办理出国签证」。"
PURPOSE_RANGE = "请回复 1 到 {count} 之间的序号，例如「6」（银行贷款）。"
PURPOSE_BE_SPECIFIC = "请说明具体用途，例如「{example}」；都不是请回复「其他：具体用途」。"
PURPOSE_ASK_AGAIN = "请回复用途序号或名称，例如「6」或「银行贷款」；都不是请回复「其他：具体用途」。"
CASE_PICK_RECORD = "请回复记录序号，例如「1」（共 {count} 条）。"

# --- the FAQ (bot/faq.toml) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """One common question: how 帮助 lists it, what it looks like, and the answer (or the action that answers)."""

    id: str
    title: str
    patterns: tuple
    answer: str
    action: str = ""


FAQ_FILE = Path(__file__).with_name("faq.toml")


def _load_faq(path=FAQ_FILE):
    """The entries of bot/faq.toml, patterns compiled."""
    with path.open("rb") as handle:
        entries = tomllib.load(handle)["faq"]
    return tuple(
        Question(e["id"], e["title"], tuple(re.compile(p) for p in e["patterns"]), e["answer"].strip(),
                 e.get("action", ""))
        for e in entries
    )


FAQ = _load_faq()
CONTACT_NONE = "咨询电话见办事指南。"

SERVICE_BUSY = "系统正在维护或繁忙，您刚才的消息未能办理，请稍候一分钟后重新发送。给您带来不便，敬请谅解。"

# --- notices: composed by jobs/ from the facts models/ keep --------------------------------------------------------
# Customer-service texts (inside WeChat's window), the same news when it waits for the owner's next message, and the
# short words of template-message fields (docs/WECHAT.md §2.4: nothing the owner needs goes in first/remark).
REPORT_DELIVERED = (
    "您申请的专用信用报告已出具。\n报告编号：{number}\n有效期至：{until}\n查验链接：{url}\n"
    "请向要求提交证明的单位出示本报告二维码，对方扫码即可查验；PDF版本生成后可在查验页面下载。"
)
REPORT_FAILED = (
    "很抱歉，您申请的专用信用报告未能生成。我们已记录该问题，工作人员将尽快处理；"
    "您也可以稍后发送“申请报告”重新申请。给您带来不便，敬请谅解。"
)
REPORT_CORRECTED = (
    "您于 {issued} 开具的专用信用报告（编号 {number}）所列的一条处罚记录已{what}，该报告状态已变更为“数据已更正”。"
    "如需使用，请发送“申请报告”重新开具。"
)
REPORT_CORRECTED_WHAT = {"corrected": "更正", "withdrawn": "更正", "repaired": "完成信用修复"}
CASE_OUTCOME_HEAD = "您提交的{kind}（编号 {number}，处罚决定书 {decision_no}）"
CASE_ACCEPTED = "{head}已办结：{resolution}。说明：{reason}"
CASE_REJECTED = "{head}经核实不予支持。理由：{reason}"
BINDING_APPROVED = "您提交的企业绑定申请（{name}）已审核通过，现在可以发送“申请报告”开具专用信用报告。"
BINDING_REFUSED = "您提交的企业绑定申请（{name}）未通过审核。理由：{reason}。如有疑问，请补充材料后重新申请。"
MOBILE_CHANGED = (
    "【重要】您绑定的企业「{name}」在企业登记信息中的联系手机号已于{when}由 {old} 变更为 {new}"
    "（来源：{source}）。此后新绑定该企业的账号须经信用办人工审核。如该变更并非贵企业办理，请立即致电信用办核实。"
)
DIGEST_HEAD = "【查验提醒】{month}月{day}日，您的专用信用报告被查验 {count} 次："
DIGEST_LINE = "· {at} {unit}（{number}）"
DIGEST_MORE = "……另有 {count} 次"
DIGEST_FOOT = "发送“我的报告”可查看查验记录。仅显示查验时间和查验单位。"
MENTION_IMAGE = "此前发送给您的一张图片未能送达，请发送“我的报告”重新获取。"
MENTION_UNKNOWN = "{at} 发送给您的一条消息可能未能送达，内容如下：{text}"
MENTION_DEFERRED = "此前有一条消息未能送达，内容如下：{text}"
FIELD_CASE_ACCEPTED = "已办结"
FIELD_CASE_REJECTED = "不予支持"
FIELD_CORRECTED = "数据已更正"
FIELD_REAPPLY = "请发送“申请报告”重新开具"
FIELD_APPROVED = "审核通过"
FIELD_REFUSED = "未通过"
FIELD_BOUND_NEXT = "可发送“申请报告”开具报告"
FIELD_MOBILE_CHANGED = "企业登记手机号已变更"
