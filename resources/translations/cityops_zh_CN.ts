<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AlertPanel</name>
    <message>
        <location filename="../../widgets/common/alerts.py" line="102"/>
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../../widgets/common/alerts.py" line="105"/>
        <source>Acknowledge all</source>
        <translation>全部确认</translation>
    </message>
    <message>
        <location filename="../../widgets/common/alerts.py" line="107"/>
        <location filename="../../widgets/common/alerts.py" line="178"/>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <location filename="../../widgets/common/alerts.py" line="178"/>
        <source>Sound off</source>
        <extracomment>The most alerts kept in the list; older ones are summed up in the title. The tone sounds at most once in this many seconds, however many alerts arrive.</extracomment>
        <translation>已静音</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/common/alerts.py" line="182"/>
        <source>Alerts to acknowledge: %n</source>
        <translation>
            <numerusform>待确认告警：%n</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CallsController</name>
    <message>
        <location filename="../../app/console/calls.py" line="182"/>
        <location filename="../../app/console/calls.py" line="445"/>
        <source>Refused: %1</source>
        <translation>被拒绝：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="184"/>
        <location filename="../../app/console/calls.py" line="448"/>
        <source>Not done: %1</source>
        <translation>未完成：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="234"/>
        <source>No conference</source>
        <translation>未在会商中</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="234"/>
        <source>Open one from an incident, or join an invitation</source>
        <translation>可从事件开启指挥会话，或接受邀请加入</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="253"/>
        <source>%1 participants</source>
        <translation>%1 人参会</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="261"/>
        <location filename="../../app/console/calls.py" line="353"/>
        <source>%1 center</source>
        <translation>%1中心</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="263"/>
        <source>Incident #%1</source>
        <translation>事件 #%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="276"/>
        <source>Pre-empted by a commander</source>
        <translation>被指挥员抢占</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="277"/>
        <source>Floor taken away</source>
        <translation>话权被收回</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="278"/>
        <source>Talk time used up</source>
        <translation>发言超时</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="279"/>
        <source>Someone with priority talks</source>
        <translation>更高优先级用户正在讲话</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="280"/>
        <source>The queue is full</source>
        <translation>排队已满</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="311"/>
        <source>%1 invites you to the conference “%2” (%3 in it)</source>
        <translation>%1 邀请您加入会商「%2」（已有 %3 人）</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="320"/>
        <source>Conference invitation: %1</source>
        <translation>会商邀请：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="328"/>
        <source>Joined “%1”</source>
        <translation>已加入「%1」</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="336"/>
        <source>Microphone off</source>
        <translation>麦克风已关闭</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="336"/>
        <source>Microphone on</source>
        <translation>麦克风已打开</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="340"/>
        <source>This workstation has no camera</source>
        <translation>本工作站没有摄像头</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="344"/>
        <source>Camera off</source>
        <translation>摄像头已关闭</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="344"/>
        <source>Camera on</source>
        <translation>摄像头已打开</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="348"/>
        <source>Join or open a conference first</source>
        <translation>请先加入或开启会商</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="350"/>
        <location filename="../../app/console/calls.py" line="421"/>
        <source>District operations center</source>
        <translation>区城运中心</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="362"/>
        <source>Invited: %1</source>
        <translation>已邀请：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="366"/>
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="368"/>
        <source>No guest link: %1</source>
        <translation>未能生成访客链接：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="372"/>
        <source>One-time guest link copied (valid 15 minutes): %1</source>
        <translation>一次性访客链接已复制（15 分钟内有效）：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="377"/>
        <source>You left the conference</source>
        <translation>您已离开会商</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="382"/>
        <source>Joined talk group %1</source>
        <translation>已加入通话组 %1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="386"/>
        <source>Left talk group %1</source>
        <translation>已退出通话组 %1</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="396"/>
        <source>Floor taken back</source>
        <translation>已收回话权</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="402"/>
        <source>Select a joined talk group to talk (F8)</source>
        <translation>请选择已加入的通话组再讲话（F8）</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="433"/>
        <source>Incident #%1 command: %2</source>
        <translation>事件 #%1 指挥会话：%2</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="435"/>
        <source>Opening the command session…</source>
        <translation>正在开启指挥会话…</translation>
    </message>
    <message>
        <location filename="../../app/console/calls.py" line="454"/>
        <source>Command session open: %1 invited</source>
        <translation>指挥会话已开启，已邀请：%1</translation>
    </message>
</context>
<context>
    <name>CallsPanel</name>
    <message>
        <location filename="../../app/console/calls.py" line="57"/>
        <source>Join</source>
        <translation>加入</translation>
    </message>
</context>
<context>
    <name>CameraList</name>
    <message>
        <location filename="../../widgets/video/cameras.py" line="96"/>
        <source>Normal</source>
        <extracomment>Item data: the camera&apos;s id (None on a street&apos;s row), its name, its state, the street code, the text the filter looks in, and the sort key. States whose cameras a tour skips (they would show &quot;offline&quot; for a whole page).</extracomment>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../widgets/video/cameras.py" line="97"/>
        <source>Alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../widgets/video/cameras.py" line="98"/>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../widgets/video/cameras.py" line="99"/>
        <source>Fault</source>
        <translation>故障</translation>
    </message>
    <message>
        <location filename="../../widgets/video/cameras.py" line="114"/>
        <source>Search cameras</source>
        <translation>搜索摄像机</translation>
    </message>
    <message>
        <location filename="../../widgets/video/cameras.py" line="208"/>
        <source>No street</source>
        <translation>未归属街镇</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/video/cameras.py" line="244"/>
        <source>%n cameras</source>
        <translation>
            <numerusform>%n 台摄像机</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/video/cameras.py" line="246"/>
        <source>%n not working</source>
        <translation>
            <numerusform>%n 台不可用</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConferenceGrid</name>
    <message>
        <location filename="../../widgets/calls/conference.py" line="213"/>
        <source>Conference participants</source>
        <extracomment>The grid for a number of participants: (up to this many, rows, columns), first match wins. The most tiles the grid shows; participants after these are counted, not shown. The states a participant&apos;s connection can be in. How often the grid looks for new pictures (ms). Pixels between tiles, and the width of the active speaker&apos;s border. Segments of a tile&apos;s audio level bar. Avatar circles, picked by a stable hash of the participant&apos;s id.</extracomment>
        <translation>参会人员</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="420"/>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="422"/>
        <source>Reconnecting…</source>
        <translation>重连中…</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="424"/>
        <source>Camera off</source>
        <translation>摄像头已关闭</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="437"/>
        <source>Nobody has joined yet</source>
        <translation>还没有人加入</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="562"/>
        <source>Me</source>
        <translation>我</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="691"/>
        <source>Microphone muted</source>
        <translation>麦克风已静音</translation>
    </message>
</context>
<context>
    <name>ConferencePanel</name>
    <message>
        <location filename="../../widgets/calls/conference.py" line="779"/>
        <source>Mute or unmute your microphone</source>
        <translation>打开或关闭您的麦克风</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="780"/>
        <source>Turn your camera off or on</source>
        <translation>打开或关闭您的摄像头</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="782"/>
        <source>Invite command centres or people</source>
        <translation>邀请指挥中心或人员</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="783"/>
        <source>Invite…</source>
        <translation>邀请…</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="784"/>
        <source>Create a one-time link for a guest in a browser</source>
        <translation>生成一次性访客链接（浏览器加入）</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="785"/>
        <source>Guest link</source>
        <translation>访客链接</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="787"/>
        <source>Leave the conference</source>
        <translation>离开会商</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="789"/>
        <source>Leave</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="824"/>
        <source>Unmute</source>
        <translation>取消静音</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="824"/>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="825"/>
        <source>Turn camera on</source>
        <translation>打开摄像头</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="825"/>
        <source>Turn camera off</source>
        <translation>关闭摄像头</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/calls/conference.py" line="840"/>
        <source>%n more not shown</source>
        <translation>
            <numerusform>另有 %n 人未显示</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConflictInbox</name>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="45"/>
        <source>Conflict inbox</source>
        <translation>冲突收件箱</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="51"/>
        <source>Rejected at</source>
        <translation>拒绝时间</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="51"/>
        <source>Incident</source>
        <translation>事件</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="51"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="51"/>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="51"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="57"/>
        <source>Open incident</source>
        <translation>打开事件</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="58"/>
        <source>Mark resolved</source>
        <translation>标记已处理</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="60"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/incidents/conflicts.py" line="89"/>
        <source>%n commands were rejected by the server.</source>
        <translation>
            <numerusform>服务器拒绝了 %n 条指令。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/conflicts.py" line="91"/>
        <source>No conflicts.</source>
        <translation>没有冲突。</translation>
    </message>
</context>
<context>
    <name>Console</name>
    <message>
        <location filename="../../app/console/console.py" line="127"/>
        <source>Sign-in refused: %1</source>
        <extracomment>Whether this session started from the cache with the server unreachable.</extracomment>
        <translation>登录被拒绝：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="129"/>
        <source>Server unreachable: %1</source>
        <translation>无法连接服务器：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="288"/>
        <source>CityOps Console — %1</source>
        <translation>一网统管指挥台 — %1</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="294"/>
        <source>Workspace</source>
        <translation>工作区</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="295"/>
        <source>Conflict inbox</source>
        <translation>冲突收件箱</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="296"/>
        <source>Save layout</source>
        <translation>保存布局</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="297"/>
        <source>Reset layout</source>
        <translation>重置布局</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="317"/>
        <source>District watch officer</source>
        <translation>区城运中心值班员</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="318"/>
        <source>Street operations center</source>
        <translation>街镇城运中心</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="319"/>
        <source>Professional center</source>
        <translation>专业指挥中心</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="320"/>
        <source>Field commander</source>
        <translation>现场指挥员</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="321"/>
        <source>Trainer</source>
        <translation>演练教员</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="322"/>
        <source>Auditor</source>
        <translation>审计员</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="323"/>
        <source>Administrator</source>
        <translation>管理员</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="334"/>
        <source>Incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="337"/>
        <source>Incident detail</source>
        <translation>事件详情</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="346"/>
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="374"/>
        <source>Video wall</source>
        <translation>视频墙</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="358"/>
        <source>Vital signs</source>
        <translation>数字体征</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="389"/>
        <source>Conference and talk groups</source>
        <translation>会商与集群通话</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="391"/>
        <source>Drill</source>
        <translation>演练</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="391"/>
        <source>Drill recording and playback — coming with the training release</source>
        <translation>演练录制与回放 — 将在演练版本中提供</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="524"/>
        <source>the console could not record the action: %1</source>
        <translation>指挥台未能记录该操作：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="531"/>
        <source>the command waits in the outbox and is sent on reconnect</source>
        <translation>指令已存入待发送队列，恢复连接后自动发送</translation>
    </message>
</context>
<context>
    <name>ConsoleStatusBar</name>
    <message>
        <location filename="../../widgets/common/status.py" line="57"/>
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../../widgets/common/status.py" line="58"/>
        <source>Catching up</source>
        <translation>同步追赶中</translation>
    </message>
    <message>
        <location filename="../../widgets/common/status.py" line="59"/>
        <source>Connecting</source>
        <translation>连接中</translation>
    </message>
    <message>
        <location filename="../../widgets/common/status.py" line="60"/>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../widgets/common/status.py" line="61"/>
        <source>Signed out</source>
        <translation>已登出</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/common/status.py" line="72"/>
        <source>Outbox: %n</source>
        <translation>
            <numerusform>待发送：%n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/common/status.py" line="74"/>
        <source>Conflicts: %n</source>
        <translation>
            <numerusform>冲突：%n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/common/status.py" line="80"/>
        <source>Overdue: %n</source>
        <translation>
            <numerusform>超时：%n</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/common/status.py" line="91"/>
        <source>Last sync: never</source>
        <translation>最近同步：无</translation>
    </message>
    <message>
        <location filename="../../widgets/common/status.py" line="94"/>
        <source>Last sync: %1</source>
        <translation>最近同步：%1</translation>
    </message>
</context>
<context>
    <name>District3DView</name>
    <message>
        <location filename="../../widgets/map/view3d.py" line="404"/>
        <source>Today</source>
        <extracomment>Height of the tallest column, as a fraction of the district&apos;s larger horizontal extent. Thickness of the district slab, as a fraction of the district&apos;s extent. A column&apos;s footprint, as a fraction of the grid&apos;s cell size. The neighbours are drawn this far around the district (fraction of its extent). Faces per column (top and four sides; the bottom is never seen): cell id // this = column. A press and release closer than this (pixels) is a click, not a drag. Degrees of orbit per pixel dragged, and the elevation limits (degrees above the horizon). Camera distance change per wheel notch, and limits relative to the reset distance. The colour ramp of the columns, low to high: yellow, orange, red. Period choices: key, seconds back from now (None: since local midnight). Font families that carry Chinese glyphs, tried in order for VTK&apos;s own text. Single-face Simplified Chinese fonts, preferred: VTK&apos;s FreeType reads only the first face of a font collection (.ttc), which for Noto Sans CJK is the Japanese one (its glyphs for the characters Chinese and Japanese share are drawn the Japanese way). Where CJK fonts live when fontconfig is not there to ask (Windows, macOS, bare Linux).</extracomment>
        <translation>今日</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="405"/>
        <source>Last 7 days</source>
        <translation>近7天</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="406"/>
        <source>Last 30 days</source>
        <translation>近30天</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="407"/>
        <source>Last year</source>
        <translation>近一年</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="413"/>
        <source>Reset view</source>
        <translation>重置视角</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="418"/>
        <source>Period</source>
        <translation>时段</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="443"/>
        <source>Drag to orbit, right-drag to pan, wheel to zoom; click a column to list its incidents</source>
        <translation>拖动旋转，右键拖动平移，滚轮缩放；点击柱体列出其事件</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="556"/>
        <source>%1 cells, %2 reports</source>
        <translation>%1 个网格，%2 件</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="570"/>
        <source>Cell %1: %2 reports</source>
        <translation>网格 %1：%2 件</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="735"/>
        <source>Fire safety: hazards and fires (%1)</source>
        <translation>消防安全：隐患与火情（%1）</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view3d.py" line="899"/>
        <source>Reports</source>
        <translation>件数</translation>
    </message>
</context>
<context>
    <name>EvaluationModel</name>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="138"/>
        <source>Rank</source>
        <extracomment>The figures, in column order (GB/T 30428.4&apos;s terms: 立案数, 结案率, 按期结案率, 处置率, 按期处置率, 返工率, the average time of each stage, 超期数). The periods of the period box: key → days back from today&apos;s start (0: today only).</extracomment>
        <translation>排名</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="139"/>
        <source>Group</source>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="140"/>
        <source>Cases</source>
        <translation>立案数</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="141"/>
        <source>Closure rate</source>
        <translation>结案率</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="142"/>
        <source>On-time closure rate</source>
        <translation>按期结案率</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="143"/>
        <source>Handling rate</source>
        <translation>处置率</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="144"/>
        <source>On-time handling rate</source>
        <translation>按期处置率</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="145"/>
        <source>Rework rate</source>
        <translation>返工率</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="146"/>
        <source>Register (h)</source>
        <translation>立案用时(时)</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="147"/>
        <source>Dispatch (h)</source>
        <translation>派遣用时(时)</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="148"/>
        <source>Handle (h)</source>
        <translation>处置用时(时)</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="149"/>
        <source>Verify (h)</source>
        <translation>核查用时(时)</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="150"/>
        <source>Overdue</source>
        <translation>超期数</translation>
    </message>
</context>
<context>
    <name>EvaluationTable</name>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="272"/>
        <source>Today</source>
        <translation>今日</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="272"/>
        <source>Last 7 days</source>
        <translation>近7天</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="272"/>
        <source>Last 30 days</source>
        <translation>近30天</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="277"/>
        <source>Streets</source>
        <translation>街镇</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="277"/>
        <source>Units</source>
        <translation>单位</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="277"/>
        <source>Categories</source>
        <translation>事项类别</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="287"/>
        <source>Period</source>
        <translation>时段</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="288"/>
        <source>Group by</source>
        <translation>分组</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="289"/>
        <source>Chart</source>
        <translation>图表</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/evaluation.py" line="394"/>
        <source>Ranked by {figure}</source>
        <translation>按{figure}排名</translation>
    </message>
</context>
<context>
    <name>GridPicker</name>
    <message>
        <location filename="../../widgets/video/panel.py" line="72"/>
        <source>Apply</source>
        <extracomment>Tour interval: range and default (seconds). Message colours by level.</extracomment>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="73"/>
        <source>Rows</source>
        <translation>行</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="75"/>
        <source>Columns</source>
        <translation>列</translation>
    </message>
</context>
<context>
    <name>IncidentBoard</name>
    <message>
        <location filename="../../widgets/incidents/board.py" line="374"/>
        <source>Open incidents</source>
        <translation>未结事件</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="375"/>
        <source>All incidents</source>
        <translation>全部事件</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="380"/>
        <source>All streets</source>
        <translation>全部街镇</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="385"/>
        <source>All categories</source>
        <translation>全部类别</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="390"/>
        <source>All levels</source>
        <translation>全部等级</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="393"/>
        <source>Overdue only</source>
        <translation>仅超时</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="397"/>
        <source>Search number, title, unit</source>
        <translation>搜索编号、标题、单位</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="401"/>
        <location filename="../../widgets/incidents/board.py" line="482"/>
        <source>Save filter</source>
        <translation>保存筛选</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="461"/>
        <source>Presets…</source>
        <translation>筛选方案…</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="482"/>
        <source>Name of the preset</source>
        <translation>方案名称</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/incidents/board.py" line="492"/>
        <source>%n incidents</source>
        <translation>
            <numerusform>共 %n 件</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>IncidentBoardModel</name>
    <message>
        <location filename="../../widgets/incidents/board.py" line="114"/>
        <source>Level</source>
        <extracomment>Records fetched per page, and pages kept. Seconds a new or changed row stays highlighted. (key, record field it sorts by)</extracomment>
        <translation>等级</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="115"/>
        <source>Number</source>
        <translation>编号</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="116"/>
        <source>Category</source>
        <translation>事项类别</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="117"/>
        <source>Street</source>
        <translation>街镇</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="118"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="119"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="120"/>
        <source>Unit</source>
        <translation>处置单位</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="121"/>
        <source>Time left</source>
        <translation>剩余时限</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="122"/>
        <source>Reports</source>
        <translation>上报数</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="123"/>
        <source>Last change</source>
        <translation>最近更新</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="297"/>
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="297"/>
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="297"/>
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="297"/>
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="323"/>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="329"/>
        <source>%1 min</source>
        <translation>%1 分钟</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/board.py" line="331"/>
        <source>OVERDUE %1</source>
        <translation>超时 %1</translation>
    </message>
</context>
<context>
    <name>IncidentDetail</name>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="102"/>
        <source>Number</source>
        <translation>编号</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="103"/>
        <source>Severity</source>
        <translation>等级</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="104"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="105"/>
        <source>Category</source>
        <translation>事项类别</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="106"/>
        <source>Street / grid</source>
        <translation>街镇 / 网格</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="107"/>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="108"/>
        <location filename="../../widgets/incidents/detail.py" line="158"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="109"/>
        <source>Unit</source>
        <translation>处置单位</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="110"/>
        <source>Stage deadline</source>
        <translation>本环节时限</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="112"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="111"/>
        <source>Reported at</source>
        <translation>上报时间</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="85"/>
        <source>Command session</source>
        <extracomment>Actions offered as buttons, in the order of the closed loop.</extracomment>
        <translation>指挥会话</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="89"/>
        <source>Conference with the street, the center and the district, the incident&apos;s talk group, cameras and map</source>
        <translation>与街镇、专业中心和区城运中心会商；事件通话组、周边视频与地图</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="120"/>
        <source>Actions</source>
        <translation>处置操作</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="124"/>
        <source>Note for the timeline</source>
        <translation>处置备注（记入时间线）</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="129"/>
        <source>merge into #</source>
        <translation>合并到 #</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="131"/>
        <source>Dispatch to</source>
        <translation>派遣至</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="153"/>
        <location filename="../../widgets/incidents/detail.py" line="158"/>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="153"/>
        <source>Who</source>
        <translation>人员</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="153"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="153"/>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="158"/>
        <source>Report</source>
        <translation>上报</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="170"/>
        <source>Timeline</source>
        <translation>时间线</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="193"/>
        <source>No incident selected</source>
        <translation>未选择事件</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="218"/>
        <source>(supervised)</source>
        <translation>（督办）</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="234"/>
        <source>OVERDUE by %1 min</source>
        <translation>已超时 %1 分钟</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/incidents/detail.py" line="246"/>
        <source>Merged reports: %n</source>
        <translation>
            <numerusform>合并上报：%n 条</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="272"/>
        <source>%1 (responsibility list)</source>
        <translation>%1（责任清单建议）</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="281"/>
        <source>Enter the number of the incident to merge into</source>
        <translation>请输入要合并到的事件编号</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="283"/>
        <source>Sending…</source>
        <translation>发送中…</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="291"/>
        <source>Accepted</source>
        <translation>已接受</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="292"/>
        <source>Queued offline</source>
        <translation>已离线排队</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="293"/>
        <source>Rejected</source>
        <translation>已拒绝</translation>
    </message>
</context>
<context>
    <name>InviteDialog</name>
    <message>
        <location filename="../../widgets/calls/conference.py" line="881"/>
        <source>Invite to the conference</source>
        <translation>邀请参会</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="883"/>
        <source>Filter by name or centre</source>
        <translation>按姓名或指挥中心筛选</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="909"/>
        <source>Invite</source>
        <translation>邀请</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="914"/>
        <source>Command centres</source>
        <translation>指挥中心</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/conference.py" line="914"/>
        <source>People</source>
        <translation>人员</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/calls/conference.py" line="954"/>
        <source>%n selected</source>
        <translation>
            <numerusform>已选 %n 项</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../widgets/common/login.py" line="26"/>
        <source>CityOps Console — sign in</source>
        <translation>一网统管指挥台 — 登录</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="28"/>
        <source>Unified city operations — Putuo District</source>
        <translation>普陀区城市运行“一网统管”</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="35"/>
        <source>Remember me on this workstation</source>
        <translation>在本工作站记住我</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="41"/>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="42"/>
        <source>User</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="43"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="45"/>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="60"/>
        <source>Enter your user name and password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
    <message>
        <location filename="../../widgets/common/login.py" line="62"/>
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
</context>
<context>
    <name>MapController</name>
    <message>
        <location filename="../../app/console/mapping.py" line="251"/>
        <source>Device %1 is no longer registered</source>
        <translation>设备 %1 已不在登记册中</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="254"/>
        <source>normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="255"/>
        <source>alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="256"/>
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="257"/>
        <source>fault</source>
        <translation>故障</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="259"/>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
</context>
<context>
    <name>MapLegend</name>
    <message>
        <location filename="../../widgets/map/overlays.py" line="49"/>
        <source>Incident levels (bubble colour: the most severe incident in it) and device states</source>
        <translation>事件等级（气泡颜色为其中最高的等级）与设备状态</translation>
    </message>
</context>
<context>
    <name>MapPanel</name>
    <message>
        <location filename="../../app/console/mapping.py" line="88"/>
        <source>The map layers are not built on this workstation.
%1</source>
        <extracomment>How often changed incidents are applied to the map, at most (ms).</extracomment>
        <translation>本工作站尚未生成地图图层。
%1</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="102"/>
        <source>2D map</source>
        <translation>二维地图</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="106"/>
        <source>3D fire safety</source>
        <translation>三维消防安全</translation>
    </message>
    <message>
        <location filename="../../app/console/mapping.py" line="128"/>
        <source>Pick a column to list its incidents</source>
        <translation>点击柱体，列出该网格的事件</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/console/mapping.py" line="145"/>
        <source>Grid cell %1: %n incidents</source>
        <translation>
            <numerusform>网格 %1：%n 件事件</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MapView</name>
    <message>
        <location filename="../../widgets/map/view2d.py" line="215"/>
        <source>Zoom in (+)</source>
        <extracomment>Largest zoom, pixels per metre (half a metre per pixel). The zoom that following a selected incident goes to when the map is further out. The unit grid is drawn only when a cell is wider than this on screen. A single incident&apos;s marker radius, and the bubbles&apos; smallest and largest radius (pixels). Minimum time between repaints caused by data changes (about 30 Hz). How far the pointer may move (pixels) before a press becomes a drag. Incidents listed in a cluster&apos;s pop-up at most (all ids go out in clusterListed). Devices in view above which they are drawn as plain dots. Sub-pixel shifts at which the district boundary&apos;s hairline is drawn (its weight) and its glow. Duration of the animated zoom into a cluster (0: jump).</extracomment>
        <translation>放大（+）</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="217"/>
        <source>Zoom out (−)</source>
        <translation>缩小（−）</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="219"/>
        <location filename="../../widgets/map/view2d.py" line="1107"/>
        <source>Whole district</source>
        <translation>全区</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="219"/>
        <source>Fit the whole district (Home)</source>
        <translation>显示全区（Home 键）</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="221"/>
        <source>Layers</source>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="221"/>
        <source>Show or hide map layers</source>
        <translation>显示或隐藏地图图层</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="225"/>
        <source>District boundary</source>
        <translation>区界</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="226"/>
        <source>Neighbouring districts</source>
        <translation>相邻区</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="227"/>
        <source>Streets</source>
        <translation>街道</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="228"/>
        <source>Unit grid (shown when a cell is over 6 px)</source>
        <translation>单元网格（格子大于 6 像素时显示）</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="229"/>
        <source>Incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="230"/>
        <source>Sensors</source>
        <translation>感知设备</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="231"/>
        <source>Cameras</source>
        <translation>视频点位</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="232"/>
        <source>Incident heat</source>
        <translation>事件热力</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="243"/>
        <source>Follow selected</source>
        <translation>跟随选中</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="243"/>
        <source>Centre the map on the selected incident</source>
        <translation>地图以选中的事件为中心</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="251"/>
        <source>Normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="252"/>
        <source>Alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="253"/>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="254"/>
        <source>Fault</source>
        <translation>故障</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="256"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="262"/>
        <source>Street boundaries are approximate</source>
        <translation>街道边界为近似</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="273"/>
        <location filename="../../widgets/map/view2d.py" line="1229"/>
        <source>Grid cell %1</source>
        <translation>单元网格 %1</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="275"/>
        <source>Boundary: %1</source>
        <translation>区界来源：%1</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="828"/>
        <source>%1 km</source>
        <translation>%1 公里</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="830"/>
        <source>%1 m</source>
        <translation>%1 米</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/map/view2d.py" line="940"/>
        <source>%n incidents here</source>
        <translation>
            <numerusform>此处 %n 件事件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/map/view2d.py" line="949"/>
        <source>… and %n more (see the board)</source>
        <translation>
            <numerusform>……另有 %n 件（见事件列表）</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="1091"/>
        <source>Select incident #%1</source>
        <translation>选中事件 #%1</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="1095"/>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="1098"/>
        <source>List incidents</source>
        <translation>列出事件</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="1104"/>
        <source>Show device %1</source>
        <translation>查看设备 %1</translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="1191"/>
        <source>Incident #%1</source>
        <translation>事件 #%1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/map/view2d.py" line="1195"/>
        <source>%n incidents</source>
        <translation>
            <numerusform>%n 件事件</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/map/view2d.py" line="1225"/>
        <source>WGS84 — move the pointer over the map</source>
        <translation>WGS84 — 将指针移到地图上</translation>
    </message>
</context>
<context>
    <name>Names</name>
    <message>
        <location filename="../../widgets/common/names.py" line="17"/>
        <source>Reported</source>
        <translation>已上报</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="18"/>
        <source>Registered</source>
        <translation>已立案</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="19"/>
        <source>Dispatched</source>
        <translation>已派遣</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="20"/>
        <source>Handling</source>
        <translation>处置中</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="21"/>
        <source>Handled</source>
        <translation>已处置</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="22"/>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="23"/>
        <source>Suspended</source>
        <translation>已挂起</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="24"/>
        <location filename="../../widgets/common/names.py" line="49"/>
        <source>Invalid</source>
        <translation>作废</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="25"/>
        <source>Merged</source>
        <translation>已合并</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="28"/>
        <source>Sensor</source>
        <translation>物联感知</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="29"/>
        <source>AI video</source>
        <translation>AI视频</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="30"/>
        <source>12345 hotline</source>
        <translation>12345热线</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="31"/>
        <source>Patrol</source>
        <translation>网格巡查</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="32"/>
        <source>Citizen</source>
        <translation>市民上报</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="33"/>
        <source>Console</source>
        <translation>指挥台</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="35"/>
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="35"/>
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="35"/>
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="35"/>
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="37"/>
        <source>Report</source>
        <translation>上报</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="38"/>
        <source>Register</source>
        <translation>立案</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="39"/>
        <source>Dispatch</source>
        <translation>派遣</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="40"/>
        <source>Accept</source>
        <translation>受理</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="41"/>
        <source>Feedback</source>
        <translation>反馈</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="42"/>
        <source>Verify pass</source>
        <translation>核查通过</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="43"/>
        <source>Return for rework</source>
        <translation>退回返工</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="44"/>
        <source>Return dispatch</source>
        <translation>退回派单</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="45"/>
        <source>Supervise</source>
        <translation>督办</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="46"/>
        <source>Suspend</source>
        <translation>挂起</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="47"/>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="48"/>
        <source>Merge into…</source>
        <translation>合并到…</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="50"/>
        <source>Merged report</source>
        <translation>合并上报</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="51"/>
        <source>Attachment</source>
        <translation>附件</translation>
    </message>
    <message>
        <location filename="../../widgets/common/names.py" line="52"/>
        <source>Command session</source>
        <translation>指挥会话</translation>
    </message>
</context>
<context>
    <name>TalkPanel</name>
    <message>
        <location filename="../../widgets/calls/talk.py" line="245"/>
        <source>No talk groups</source>
        <extracomment>What the floor of a group is doing, seen from this console. The push-to-talk button&apos;s diameter (pixels). Colours of a state line.</extracomment>
        <translation>没有通话组</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="269"/>
        <source>Hold to talk in the selected group; let go to end</source>
        <translation>按住在所选通话组讲话，松开结束</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="273"/>
        <location filename="../../widgets/calls/talk.py" line="372"/>
        <source>Emergency call</source>
        <translation>紧急呼叫</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="275"/>
        <source>Hold for an emergency call: it takes the floor from anyone</source>
        <translation>按住发起紧急呼叫：可抢占任何人的话权</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="276"/>
        <source>Take back the floor</source>
        <translation>收回话权</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="278"/>
        <source>End whoever talks now in the selected group</source>
        <translation>结束所选通话组当前讲话人的发言</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="283"/>
        <source>What the group sounds like here</source>
        <translation>本机收听到的通话音量</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="285"/>
        <source>Your microphone</source>
        <translation>您的麦克风</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="286"/>
        <source>No microphone</source>
        <translation>无麦克风</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="288"/>
        <source>No microphone found: you can listen but not talk</source>
        <translation>未检测到麦克风：可以收听，不能讲话</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="293"/>
        <source>Receiving</source>
        <translation>收听</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="295"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="360"/>
        <source>Not joined</source>
        <translation>未加入</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="362"/>
        <source>I am talking</source>
        <translation>我在讲话</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="364"/>
        <source>%1 is talking</source>
        <translation>%1 正在讲话</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="364"/>
        <source>Someone</source>
        <translation>有人</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="366"/>
        <source>Queued, position %1</source>
        <translation>排队第 %1 位</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="368"/>
        <source>Requesting the floor…</source>
        <translation>请求话权…</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="370"/>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="391"/>
        <source>Join the group
to talk</source>
        <translation>加入通话组
后可讲话</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="393"/>
        <source>Talking</source>
        <translation>正在讲话</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="395"/>
        <source>Requesting…</source>
        <translation>请求话权…</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="397"/>
        <source>Queued #%1</source>
        <translation>排队第 %1 位</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="398"/>
        <source>Hold to talk</source>
        <translation>按住讲话</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="445"/>
        <source>Leave</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="445"/>
        <source>Join</source>
        <translation>加入</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="446"/>
        <source>Leave this talk group</source>
        <translation>退出该通话组</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="446"/>
        <source>Join this talk group</source>
        <translation>加入该通话组</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="525"/>
        <source>No talk group selected</source>
        <translation>未选择通话组</translation>
    </message>
    <message>
        <location filename="../../widgets/calls/talk.py" line="546"/>
        <source>or hold %1</source>
        <translation>或按住 %1 键</translation>
    </message>
</context>
<context>
    <name>VideoController</name>
    <message>
        <location filename="../../app/console/video.py" line="109"/>
        <source>Follow incident</source>
        <extracomment>An AI video alarm lights its camera this long (seconds), if it is this fresh. Cameras put on the wall for a selected incident. Whether :meth:`start` has put the wall back (or filled it the first time).</extracomment>
        <translation>跟随事件</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="110"/>
        <source>Put the cameras nearest to the selected incident on the wall</source>
        <translation>将距所选事件最近的摄像机上墙</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="226"/>
        <source>%1 on tile %2</source>
        <translation>%1 已上墙至画面 %2</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="262"/>
        <source>No camera within 1.5 km of incident #%1</source>
        <translation>事件 #%1 周边 1.5 公里内无摄像机</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="274"/>
        <source>Incident #%1: the %2 nearest cameras are on the wall</source>
        <translation>事件 #%1：最近的 %2 台摄像机已上墙</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="312"/>
        <source>AI video alarm #%1: %2</source>
        <translation>AI视频告警 #%1：%2</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="322"/>
        <source>Select an incident first: the snapshot is attached to it</source>
        <translation>请先选择事件：快照将附加到该事件</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="325"/>
        <source>This tile shows no picture yet</source>
        <translation>该画面尚无图像</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="333"/>
        <source>The server cannot be reached; the snapshot was not sent</source>
        <translation>无法连接服务器，快照未发送</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="337"/>
        <source>Offline: the snapshot is kept and goes to incident #%1 when the server is back</source>
        <translation>离线：快照已暂存，服务器恢复后将发送至事件 #%1</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="344"/>
        <location filename="../../app/console/video.py" line="381"/>
        <source>Snapshot refused: %1</source>
        <translation>快照被拒绝：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="348"/>
        <source>Snapshot of %1 attached to incident #%2</source>
        <translation>%1 的快照已附加到事件 #%2</translation>
    </message>
    <message>
        <location filename="../../app/console/video.py" line="384"/>
        <source>Snapshot taken offline attached to incident #%1</source>
        <translation>离线截取的快照已附加到事件 #%1</translation>
    </message>
</context>
<context>
    <name>VideoWall</name>
    <message>
        <location filename="../../widgets/video/wall.py" line="216"/>
        <source>Video wall</source>
        <extracomment>The MIME type of a tile dragged inside a wall: JSON ``{&quot;wall&quot;: token, &quot;index&quot;: i}``. Grid presets (tiles → rows, cols) and the largest custom grid side. How often the wall looks for new frames (ms): a little faster than the fastest stream. Seconds without a frame before the wall marks a live tile stalled. The window over which a tile&apos;s frame rate is measured (seconds). Weight of the newest delay in the smoothed delay. Seconds between refreshes of a live tile&apos;s fps and delay readout. Pixels between tiles, and the width of the selection and alarm borders. One pulse of an alarm border (seconds). The colour of each state&apos;s live dot (None: no dot). States in which a tile shows the frames it gets; in the others they are thrown away. Seconds without a frame before a live tile shows as stalled.</extracomment>
        <translation>视频墙</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="859"/>
        <source>%1 fps</source>
        <translation>%1 帧/秒</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="862"/>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="916"/>
        <source>No permission: %1</source>
        <translation>无权限：%1</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="924"/>
        <source>Drag a camera here</source>
        <translation>拖入摄像机</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="926"/>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="928"/>
        <source>Signal lost, reconnecting…</source>
        <translation>信号中断，正在重连…</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="930"/>
        <source>No permission</source>
        <translation>无权限</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="932"/>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="983"/>
        <source>AI alarm</source>
        <translation>AI告警</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="1055"/>
        <source>Enlarge</source>
        <translation>放大</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="1058"/>
        <source>Back to the grid</source>
        <translation>返回宫格</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="1059"/>
        <source>Snapshot to incident</source>
        <translation>快照至事件</translation>
    </message>
    <message>
        <location filename="../../widgets/video/wall.py" line="1062"/>
        <source>Remove from wall</source>
        <translation>移出视频墙</translation>
    </message>
</context>
<context>
    <name>VideoWallPanel</name>
    <message>
        <location filename="../../widgets/video/panel.py" line="109"/>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/video/panel.py" line="115"/>
        <source>%n cameras</source>
        <translation>
            <numerusform>%n 画面</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="119"/>
        <location filename="../../widgets/video/panel.py" line="259"/>
        <source>Custom…</source>
        <translation>自定义…</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="119"/>
        <source>Choose rows and columns</source>
        <translation>选择行数和列数</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="132"/>
        <source>Tour</source>
        <translation>轮巡</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="133"/>
        <source>Show the cameras of the selected street, or all the list shows, a page at a time</source>
        <translation>逐页轮巡所选街镇的摄像机（未选街镇时轮巡列表中全部摄像机）</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="140"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="141"/>
        <source>Seconds per page</source>
        <translation>每页停留秒数</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="157"/>
        <source>Snapshot</source>
        <translation>快照</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="157"/>
        <source>Attach the selected tile&apos;s picture to an incident</source>
        <translation>将所选画面的截图附加到事件</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="214"/>
        <source>%1 of %2 tiles live</source>
        <translation>%1/%2 个画面在线</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="217"/>
        <source>tour page %1/%2</source>
        <translation>轮巡第 %1/%2 页</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="225"/>
        <source>Select a tile first</source>
        <translation>请先选择画面</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="227"/>
        <source>This tile shows no picture yet</source>
        <translation>该画面尚无图像</translation>
    </message>
    <message>
        <location filename="../../widgets/video/panel.py" line="270"/>
        <source>No working cameras to tour</source>
        <translation>没有可轮巡的正常摄像机</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/video/panel.py" line="274"/>
        <source>Touring %n cameras</source>
        <translation>
            <numerusform>正在轮巡 %n 台摄像机</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>VitalTile</name>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="208"/>
        <source>No data</source>
        <extracomment>A value short of every boundary, and a value not known. The four warning levels: the board&apos;s colours. Opacity of the threshold bands behind the live series (0–255). Points kept per series: a minute at 10 Hz, or 100 minutes of 10-second samples. Tiles are repainted at most this often (ms), a batch at a time (so no one paint of every tile holds up the event loop); the live chart follows every value. Points a tile&apos;s sparkline shows (the newest).</extracomment>
        <translation>无数据</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="210"/>
        <source>Normal</source>
        <translation>正常</translation>
    </message>
</context>
<context>
    <name>VitalsController</name>
    <message>
        <location filename="../../app/console/vitals.py" line="122"/>
        <source>Loading the evaluation…</source>
        <extracomment>Where reports are written, and the last one written (for the status line and tests).</extracomment>
        <translation>正在加载综合评价…</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="130"/>
        <source>Evaluation unavailable: the server cannot be reached (%1)</source>
        <translation>综合评价不可用：无法连接服务器（%1）</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="134"/>
        <source>Evaluation refused: %1</source>
        <translation>综合评价请求被拒绝：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="141"/>
        <source>(no unit)</source>
        <translation>（未派遣）</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/console/vitals.py" line="146"/>
        <source>%1: %n groups</source>
        <translation>
            <numerusform>%1：%n 个对象</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="158"/>
        <source>Gathering the figures…</source>
        <translation>正在汇总数据…</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="158"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="160"/>
        <source>City health check report</source>
        <translation>城市体检报告</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="173"/>
        <source>Report unavailable: the server cannot be reached (%1)</source>
        <translation>无法生成报告：无法连接服务器（%1）</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="176"/>
        <source>Report refused: %1</source>
        <translation>报告请求被拒绝：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="179"/>
        <source>Report cancelled</source>
        <translation>已取消生成报告</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="183"/>
        <source>Writing the PDF…</source>
        <translation>正在生成 PDF…</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/console/vitals.py" line="197"/>
        <source>Report written: %1 (%n pages)</source>
        <translation>
            <numerusform>报告已生成：%1（共 %n 页）</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>VitalsDashboard</name>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="454"/>
        <source>Select an indicator</source>
        <extracomment>The indicators the live chart draws (one: with its threshold bands). The indicator whose breakdown is shown (or awaited), and the breakdown itself. The pen of each curve on the live chart.</extracomment>
        <translation>请选择指标</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="471"/>
        <location filename="../../widgets/vitals/dashboard.py" line="534"/>
        <source>Breakdown by street</source>
        <translation>分街镇统计</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="480"/>
        <source>Click a tile to see it by street</source>
        <translation>点击指标卡片查看分街镇数据</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="610"/>
        <source>{name} by street ({unit})</source>
        <translation>{name}·分街镇（{unit}）</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="652"/>
        <source>{count} indicators</source>
        <translation>{count} 项指标</translation>
    </message>
    <message>
        <location filename="../../widgets/vitals/dashboard.py" line="669"/>
        <source>{name} by street: loading…</source>
        <translation>{name}·分街镇：加载中…</translation>
    </message>
</context>
<context>
    <name>VitalsPanel</name>
    <message>
        <location filename="../../app/console/vitals.py" line="51"/>
        <source>City health check report…</source>
        <translation>城市体检报告…</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="54"/>
        <source>A PDF and HTML report of the period chosen below: vital signs, evaluation, problems by street</source>
        <translation>按下方所选时段生成 PDF 与 HTML 报告：数字体征、综合评价、各街道突出问题</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="59"/>
        <source>Vital signs</source>
        <translation>数字体征</translation>
    </message>
    <message>
        <location filename="../../app/console/vitals.py" line="60"/>
        <source>Evaluation</source>
        <translation>综合评价</translation>
    </message>
</context>
</TS>
