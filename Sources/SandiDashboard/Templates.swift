import Mustache

/// The dashboard's pages as Mustache templates (HTML-escaped by default). Each page renders into
/// `layout` as `body`.
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in all {
            // A template that does not parse renders as nothing (`problems` names it; a test checks none does).
            try? library.register(text, named: name)
        }
        return library
    }()

    /// Templates that do not parse (empty when all is well).
    static var problems: [String] {
        all.compactMap { name, text in (try? MustacheTemplate(string: text)) == nil ? name : nil }.sorted()
    }

    static let all: [String: String] = [
        "layout": """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Sandi</title><link rel="stylesheet" href="/dashboard/assets/app.css"></head>
        <body>
        {{#session}}
        <header><a class="brand" href="/dashboard">Sandi</a>
        <nav>{{#nav}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/nav}}</nav>
        <form method="post" action="/dashboard/logout" class="who"><span>{{name}} · {{role}}{{#scope}} · {{scope}}{{/scope}}</span>
        <input type="hidden" name="csrf" value="{{csrf}}"><button>Sign out</button></form></header>
        {{/session}}
        {{#outage}}<div class="banner" role="alert">Provider trouble: {{outage}}</div>{{/outage}}
        <main>{{{body}}}</main>
        <script src="/dashboard/assets/app.js"></script>
        </body></html>
        """,
        "login": """
        <section class="login"><h1>Sign in to Sandi</h1>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/dashboard/login">
        <label>Name <input name="name" autocomplete="username" required value="{{name}}"></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <label>Code from your authenticator <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required></label>
        <button type="submit">Sign in</button></form></section>
        """,
        "overview": """
        <h1>Overview</h1>
        <p class="windows">{{#windows}}<a href="?window={{name}}"{{#current}} aria-current="page"{{/current}}>Last {{name}}</a> {{/windows}}</p>
        <div class="tiles" data-live="/dashboard/api/overview?window={{window}}">
        {{#tiles}}<div class="tile"><span class="label">{{label}}</span><span class="value" data-field="{{field}}">{{value}}</span></div>{{/tiles}}
        </div>
        <h2>Verifications and deliveries</h2>
        <div class="chart" data-field="chart">{{{chart}}}</div>
        <h2>Fallbacks by step</h2>
        <table><tr><th>Step</th><th>Count</th></tr>{{#fallbackSteps}}<tr><td>{{key}}</td><td>{{count}}</td></tr>{{/fallbackSteps}}{{^fallbackSteps}}<tr><td colspan="2">none</td></tr>{{/fallbackSteps}}</table>
        """,
        "breakdown": """
        <h1>Breakdown</h1>
        <p class="windows">{{#windows}}<a href="?window={{name}}"{{#current}} aria-current="page"{{/current}}>Last {{name}}</a> {{/windows}}</p>
        {{#tables}}<h2>{{title}}</h2><table><tr><th>{{column}}</th><th>{{sendsLabel}}</th><th>Delivered</th><th>Failed</th><th>Delivery rate</th></tr>
        {{#rows}}<tr><td>{{key}}</td><td>{{sends}}</td><td>{{delivered}}</td><td>{{failed}}</td><td>{{rate}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="5">nothing in this window</td></tr>{{/rows}}</table>{{/tables}}
        """,
        "providers": """
        <h1>Providers</h1>
        <table><tr><th>Provider</th><th>Channels</th><th>Priority</th><th>Breakers (this node)</th></tr>
        {{#providers}}<tr><td>{{name}}</td><td>{{channels}}</td><td>{{priority}}</td><td>{{#breakers}}<span class="state-{{state}}">{{channel}}/{{operator}}: {{state}} ({{samples}} samples, {{failureRate}} failed)</span><br>{{/breakers}}{{^breakers}}healthy, no samples{{/breakers}}</td></tr>{{/providers}}
        </table>
        """,
        "lookup": """
        <h1>Verifications</h1>
        <form method="get" action="/dashboard/verifications" class="search"><input name="q" value="{{q}}" placeholder="ver_… or +62…" aria-label="Verification id or phone number"><button>Find</button></form>
        {{#message}}<p>{{message}}</p>{{/message}}
        {{#results}}<table><tr><th>Id</th><th>Tenant</th><th>Purpose</th><th>To</th><th>Status</th><th>Created</th></tr>
        {{#items}}<tr><td><a href="/dashboard/verifications/{{id}}?tenant={{tenantID}}">{{id}}</a></td><td>{{tenant}}</td><td>{{purpose}}</td><td>{{to}}</td><td>{{status}}</td><td>{{created}}</td></tr>{{/items}}</table>{{/results}}
        """,
        "timeline": """
        <h1>Verification {{id}}</h1>
        <dl class="facts"><dt>Tenant</dt><dd>{{tenant}}</dd><dt>To</dt><dd>{{to}}</dd><dt>Purpose</dt><dd>{{purpose}}</dd><dt>Status</dt><dd data-field="status">{{status}}</dd>
        <dt>Country / operator</dt><dd>{{country}} / {{operator}}</dd><dt>Sends left</dt><dd>{{sendsLeft}}</dd><dt>Expires</dt><dd>{{expires}}</dd></dl>
        <h2>Deliveries</h2><table><tr><th>Channel</th><th>Provider</th><th>Status</th><th>Queued</th><th>Sent</th><th>Error</th></tr>
        {{#deliveries}}<tr><td>{{channel}}</td><td>{{provider}}</td><td>{{status}}</td><td>{{queued}}</td><td>{{sent}}</td><td>{{error}}</td></tr>{{/deliveries}}</table>
        <h2>Channels for this number</h2><ul class="availability">{{#availability}}<li><strong>{{channel}}</strong>: {{state}}</li>{{/availability}}</ul>
        {{#canAct}}<h2>Support</h2><form method="post" action="/dashboard/verifications/{{id}}/resend" class="inline">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="tenant" value="{{tenantID}}">
        <label>Send again by <select name="channel">{{#channels}}<option>{{.}}</option>{{/channels}}</select></label><button>Resend</button></form>
        {{#notice}}<p class="notice">{{notice}}</p>{{/notice}}{{/canAct}}
        <h2>Timeline</h2><ol class="timeline">{{#events}}<li><time>{{at}}</time> <strong>{{type}}</strong> <span>{{summary}}</span></li>{{/events}}</ol>
        """,
        "audit": """
        <h1>Audit log</h1>
        <form method="get" class="search"><input name="type" value="{{type}}" placeholder="event type prefix, e.g. delivery." aria-label="Event type"><input name="tenant" value="{{tenant}}" placeholder="tenant id" aria-label="Tenant"><button>Filter</button>
        <a href="/dashboard/audit/export?format=jsonl">Export JSONL</a> <a href="/dashboard/audit/export?format=csv">Export CSV</a></form>
        <table><tr><th>#</th><th>Time</th><th>Tenant</th><th>Type</th><th>Verification</th><th>Data</th><th>Hash</th></tr>
        {{#records}}<tr><td>{{seq}}</td><td>{{at}}</td><td>{{tenant}}</td><td>{{type}}</td><td>{{verification}}</td><td class="data">{{data}}</td><td class="hash">{{hash}}</td></tr>{{/records}}</table>
        """,
        "webhooks": """
        <h1>Webhook dead letters</h1>
        {{#notice}}<p class="notice">{{notice}}</p>{{/notice}}
        <table><tr><th>Delivery</th><th>Tenant</th><th>URL</th><th>Attempts</th><th>Last result</th><th></th></tr>
        {{#items}}<tr><td>{{id}}</td><td>{{tenant}}</td><td>{{url}}</td><td>{{attempts}}</td><td>{{result}}</td><td>{{#canReplay}}<form method="post" action="/dashboard/webhooks/{{id}}/replay"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="tenant" value="{{tenantID}}"><button>Replay</button></form>{{/canReplay}}</td></tr>{{/items}}
        {{^items}}<tr><td colspan="6">no parked deliveries</td></tr>{{/items}}</table>
        """,
        "settings": """
        <h1>Routing and message settings</h1>
        {{#notice}}<p class="notice">{{notice}}</p>{{/notice}}
        {{#tenants}}<section><h2>{{name}}</h2>
        {{#documents}}<form method="post" action="/dashboard/settings"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="tenant" value="{{tenantID}}"><input type="hidden" name="kind" value="{{kind}}">
        <label>{{kind}} ({{source}})<textarea name="document" rows="6"{{^canEdit}} readonly{{/canEdit}}>{{json}}</textarea></label>{{#canEdit}}<button>Save {{kind}}</button>{{/canEdit}}</form>{{/documents}}
        </section>{{/tenants}}
        """,
        "report": """
        <h1>Daily report {{day}}</h1>
        <div class="tiles">{{#tiles}}<div class="tile"><span class="label">{{label}}</span><span class="value">{{value}}</span></div>{{/tiles}}</div>
        <div class="chart">{{{chart}}}</div>
        <table><tr><th>Hour (UTC)</th><th>Verifications</th><th>Delivered</th></tr>{{#hours}}<tr><td>{{hour}}</td><td>{{verifications}}</td><td>{{delivered}}</td></tr>{{/hours}}</table>
        """,
        "support": """
        <h1>Support tickets</h1>
        <p>Users who asked the assistant for a person. Open the timeline to see what happened and send the code again on another channel.</p>
        <table><tr><th>Ticket</th><th>Opened</th><th>Tenant</th><th>To</th><th>Language</th><th>Via</th><th>Message</th><th>Verification</th></tr>
        {{#tickets}}<tr><td>{{id}}</td><td>{{at}}</td><td>{{tenant}}</td><td>{{to}}</td><td>{{language}}</td><td>{{source}}</td><td>{{message}}</td><td><a href="/dashboard/verifications/{{verification}}?tenant={{tenantID}}">timeline</a></td></tr>{{/tickets}}
        {{^tickets}}<tr><td colspan="8">no open tickets</td></tr>{{/tickets}}</table>
        """,
        "users": """
        <h1>Users</h1>
        {{#notice}}<p class="notice">{{notice}}</p>{{/notice}}
        <h2>Number changes waiting for an approval</h2>
        <p>The user lost their old number. Approve only after checking who they are (in person, or by a call to their supervisor); the change completes once the code sent to the new number is approved.</p>
        <table><tr><th>Change</th><th>Tenant</th><th>User</th><th>From</th><th>To</th><th>Requested</th><th>Expires</th><th></th></tr>
        {{#waiting}}<tr><td>{{id}}</td><td>{{tenant}}</td><td>{{user}}</td><td>{{from}}</td><td>{{to}}</td><td>{{at}}</td><td>{{expires}}</td><td>{{#canDecide}}<form method="post" action="/dashboard/phone-changes/{{id}}/decide" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="tenant" value="{{tenantID}}"><input name="note" placeholder="note (how you checked)"><button name="decision" value="approve">Approve</button><button name="decision" value="reject">Reject</button></form>{{/canDecide}}</td></tr>{{/waiting}}
        {{^waiting}}<tr><td colspan="8">nothing waits</td></tr>{{/waiting}}</table>
        <h2>Find a user</h2>
        <form method="get" action="/dashboard/users" class="search"><input name="user" value="{{query}}" placeholder="user_ref"><button>Find</button></form>
        {{#found}}<div class="facts"><span>User</span><span>{{user}} ({{tenant}})</span><span>Number</span><span>{{phone}}</span><span>Group</span><span>{{group}}</span><span>Language</span><span>{{locale}}</span><span>Channel</span><span>{{channel}}</span><span>Supervisor</span><span>{{supervisor}}</span><span>Cooling-off until</span><span>{{cooling}}</span><span>Recovery codes left</span><span>{{codes}}</span></div>
        <table><tr><th>Changed</th><th>How</th><th>From</th><th>To</th><th>Approved by</th></tr>{{#history}}<tr><td>{{at}}</td><td>{{method}}</td><td>{{from}}</td><td>{{to}}</td><td>{{by}}</td></tr>{{/history}}{{^history}}<tr><td colspan="5">no number changes</td></tr>{{/history}}</table>{{/found}}
        {{^found}}{{#searched}}<p>No such user.</p>{{/searched}}{{/found}}
        {{#canRecover}}<h2>Recover an account</h2>
        <p>For a user who lost their phone: signs every trusted device out, starts the cooling-off period, tells the user's number(s), and gives a one-time grant for the app. Recorded in the audit trail with your name and the reason.</p>
        <form method="post" action="/dashboard/users/recover" class="settings"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>Tenant<select name="tenant">{{#tenants}}<option value="{{id}}">{{name}}</option>{{/tenants}}</select></label>
        <label>user_ref<input name="user" required value="{{query}}"></label><label>New number (E.164, optional)<input name="new_to" placeholder="+60123456789"></label>
        <label>Reason (how you checked who they are)<input name="reason" required></label><button>Recover</button></form>{{/canRecover}}
        """,
        "message": """
        <h1>{{title}}</h1><p>{{text}}</p>
        """,
    ]

    static let css = """
    body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2433;background:#f5f7fa}
    header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;background:#12355b;color:#fff}
    header a{color:#dbe7f5;text-decoration:none}header a[aria-current]{color:#fff;font-weight:600}
    .brand{font-weight:700;font-size:1.1rem;color:#fff!important}nav{display:flex;gap:1rem;flex-wrap:wrap}
    .who{margin-left:auto;display:flex;gap:.6rem;align-items:center}main{padding:1.2rem;max-width:1200px}
    .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.8rem}
    .tile{background:#fff;border-radius:8px;padding:.8rem;box-shadow:0 1px 2px #0002;display:flex;flex-direction:column}
    .tile .label{color:#5b6577;font-size:.85rem}.tile .value{font-size:1.6rem;font-weight:600}
    table{border-collapse:collapse;background:#fff;margin:.5rem 0 1.2rem;width:100%}td,th{padding:.35rem .6rem;border-bottom:1px solid #e3e7ee;text-align:left}
    .banner{background:#b3261e;color:#fff;padding:.6rem 1.2rem;font-weight:600}.error{color:#b3261e}.notice{color:#1b6e3a}
    .login{max-width:360px;margin:4rem auto;background:#fff;padding:1.5rem;border-radius:8px;box-shadow:0 1px 3px #0003}
    .login label,.settings label{display:block;margin:.6rem 0}input,select,textarea{font:inherit;padding:.35rem;width:100%;box-sizing:border-box}
    button{font:inherit;padding:.35rem .9rem;background:#12355b;color:#fff;border:0;border-radius:5px;cursor:pointer}
    .search{display:flex;gap:.5rem;align-items:center}.search input{max-width:320px}.inline{display:flex;gap:.6rem;align-items:end}
    .inline input{min-width:8rem;flex:1}
    .timeline li{margin:.25rem 0}.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
    .data,.hash{font-family:monospace;font-size:.8rem;max-width:380px;overflow-wrap:anywhere}.state-open{color:#b3261e;font-weight:600}
    .chart svg{background:#fff;border-radius:8px;width:100%;height:auto}
    """

    static let script = """
    (function(){
      var live=document.querySelector('[data-live]');
      if(!live)return;
      function refresh(){
        fetch(live.getAttribute('data-live'),{credentials:'same-origin'}).then(function(r){return r.ok?r.json():null}).then(function(d){
          if(!d)return;
          document.querySelectorAll('[data-field]').forEach(function(el){
            var k=el.getAttribute('data-field');
            if(k==='chart'&&d.chart){el.innerHTML=d.chart}else if(d.tiles&&d.tiles[k]!==undefined){el.textContent=d.tiles[k]}
          });
        }).catch(function(){});
      }
      setInterval(refresh,5000);
    })();
    """
}
