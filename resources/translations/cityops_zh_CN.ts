<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>Console</name>
    <message>
        <location filename="../../app/console/console.py" line="70"/>
        <source>Sign-in refused: %1</source>
        <translation>登录被拒绝：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="72"/>
        <source>Server unreachable: %1</source>
        <translation>无法连接服务器：%1</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="119"/>
        <source>CityOps Console — incidents</source>
        <translation>一网统管指挥台 — 事件</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="122"/>
        <source>Incident board</source>
        <translation>事件列表</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="163"/>
        <source>the command waits in the outbox and is sent on reconnect</source>
        <translation>指令已存入待发送队列，恢复连接后自动发送</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="178"/>
        <source>Conflict inbox</source>
        <translation>冲突收件箱</translation>
    </message>
    <message>
        <location filename="../../app/console/console.py" line="178"/>
        <source>No conflicts.</source>
        <translation>没有冲突。</translation>
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
    <name>IncidentDetail</name>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="83"/>
        <source>Number</source>
        <extracomment>Actions offered as buttons, in the order of the closed loop.</extracomment>
        <translation>编号</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="84"/>
        <source>Severity</source>
        <translation>等级</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="85"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="86"/>
        <source>Category</source>
        <translation>事项类别</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="87"/>
        <source>Street / grid</source>
        <translation>街镇 / 网格</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="88"/>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="89"/>
        <location filename="../../widgets/incidents/detail.py" line="139"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="90"/>
        <source>Unit</source>
        <translation>处置单位</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="91"/>
        <source>Stage deadline</source>
        <translation>本环节时限</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="175"/>
        <source>Reported</source>
        <translation>已上报</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="93"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="92"/>
        <source>Reported at</source>
        <translation>上报时间</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="101"/>
        <source>Actions</source>
        <translation>处置操作</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="104"/>
        <source>Note for the timeline</source>
        <translation>处置备注（记入时间线）</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="109"/>
        <source>merge into #</source>
        <translation>合并到 #</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="111"/>
        <source>Dispatch to</source>
        <translation>派遣至</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="134"/>
        <location filename="../../widgets/incidents/detail.py" line="139"/>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="134"/>
        <source>Who</source>
        <translation>人员</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="134"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="134"/>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="139"/>
        <location filename="../../widgets/incidents/detail.py" line="169"/>
        <source>Report</source>
        <translation>上报</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="148"/>
        <source>Timeline</source>
        <translation>时间线</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="157"/>
        <source>Register</source>
        <translation>立案</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="158"/>
        <source>Dispatch</source>
        <translation>派遣</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="159"/>
        <source>Accept</source>
        <translation>受理</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="160"/>
        <source>Feedback</source>
        <translation>反馈</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="161"/>
        <source>Verify pass</source>
        <translation>核查通过</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="162"/>
        <source>Return for rework</source>
        <translation>退回返工</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="163"/>
        <source>Return dispatch</source>
        <translation>退回派单</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="164"/>
        <source>Supervise</source>
        <translation>督办</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="165"/>
        <source>Suspend</source>
        <translation>挂起</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="166"/>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="167"/>
        <source>Merge into…</source>
        <translation>合并到…</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="168"/>
        <location filename="../../widgets/incidents/detail.py" line="182"/>
        <source>Invalid</source>
        <translation>作废</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="170"/>
        <source>Merged report</source>
        <translation>合并上报</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="176"/>
        <source>Registered</source>
        <translation>已立案</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="177"/>
        <source>Dispatched</source>
        <translation>已派遣</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="178"/>
        <source>Handling</source>
        <translation>处置中</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="179"/>
        <source>Handled</source>
        <translation>已处置</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="180"/>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="181"/>
        <source>Suspended</source>
        <translation>已挂起</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="183"/>
        <source>Merged</source>
        <translation>已合并</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="202"/>
        <source>No incident selected</source>
        <translation>未选择事件</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="218"/>
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="218"/>
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="218"/>
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="218"/>
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="224"/>
        <source>(supervised)</source>
        <translation>（督办）</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="240"/>
        <source>OVERDUE by %1 min</source>
        <translation>已超时 %1 分钟</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/incidents/detail.py" line="253"/>
        <source>Merged reports: %n</source>
        <translation>
            <numerusform>合并上报：%n 条</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="278"/>
        <source>%1 (responsibility list)</source>
        <translation>%1（责任清单建议）</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="287"/>
        <source>Enter the number of the incident to merge into</source>
        <translation>请输入要合并到的事件编号</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="289"/>
        <source>Sending…</source>
        <translation>发送中…</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="297"/>
        <source>Accepted</source>
        <translation>已接受</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="298"/>
        <source>Queued offline</source>
        <translation>已离线排队</translation>
    </message>
    <message>
        <location filename="../../widgets/incidents/detail.py" line="299"/>
        <source>Rejected</source>
        <translation>已拒绝</translation>
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
</TS>
