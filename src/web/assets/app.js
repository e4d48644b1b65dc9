// detente dashboard: a read-only view over the node's own JSON APIs (TAXII
// 2.1 and /detente/v1/), fetched with the user's credentials, so that the
// node's one door out (node_query) decides what is shown. Credentials live
// in sessionStorage (gone when the tab closes) and travel only as an
// Authorization header; fetches omit cookies and never trigger the
// browser's own login prompt. Every value from the server reaches the page
// through textContent, never as markup.
'use strict';
(function () {
  const TAXII = 'application/taxii+json;version=2.1';
  const V1 = '/detente/v1/';
  const PAGE = 50;
  const $ = (id) => document.getElementById(id);
  const st = { apiRoot: null, collections: [], objects: new Map(), after: null };

  // ---- fetching ----
  function auth() { return sessionStorage.getItem('detente.auth'); }

  async function get(url, taxii) {
    const headers = { Accept: taxii ? TAXII : 'application/json' };
    if (auth()) headers.Authorization = auth();
    const r = await fetch(url, { headers, credentials: 'omit', cache: 'no-store' });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const e = new Error((body && (body.description || body.title)) || 'HTTP ' + r.status);
      e.status = r.status;
      throw e;
    }
    return body;
  }

  // ---- DOM helpers (text only) ----
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function cell(v, cls) {
    const td = el('td', null, cls);
    if (v instanceof Node) td.appendChild(v); else td.textContent = v === undefined || v === null ? '—' : String(v);
    return td;
  }
  function fill(tbody, rows, empty) {
    const cols = tbody.parentNode.querySelectorAll('thead th').length;
    tbody.replaceChildren();
    if (rows.length === 0) {
      const td = el('td', empty, 'muted');
      td.colSpan = cols;
      tbody.appendChild(el('tr')).appendChild(td);
      return;
    }
    for (const cells of rows) {
      const tr = el('tr');
      for (const c of cells) tr.appendChild(c instanceof HTMLTableCellElement ? c : cell(c));
      tbody.appendChild(tr);
    }
  }
  function failed(tbody, e) {
    fill(tbody, [], e.status === 401 || e.status === 403 ? 'Sign in to see this.' : 'Could not load: ' + e.message);
  }
  function facts(dl, pairs) {
    dl.replaceChildren();
    for (const [k, v] of pairs) {
      dl.appendChild(el('dt', k));
      const dd = el('dd');
      if (v instanceof Node) dd.appendChild(v); else dd.textContent = v === undefined || v === null ? '—' : String(v);
      dl.appendChild(dd);
    }
  }
  function notice(text) { $('notice').textContent = text || ''; }
  const time = (ms) => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '—');
  const num = (x, d) => (typeof x === 'number' ? x.toFixed(d) : '—');
  function badge(text, kind) { return el('span', text, 'badge ' + kind + '-' + text); }
  function code(text) { return el('code', text); }

  // ---- names and claim values, from the STIX objects the user may read ----
  function nameOf(id) {
    const o = st.objects.get(id);
    if (o && o.name) return o.name;
    if (!id) return '—';
    const [type, uuid] = id.split('--');
    return uuid ? type + ' ' + uuid.slice(0, 8) : id;
  }
  function named(id) {
    const s = el('span', nameOf(id));
    s.title = id || '';
    return s;
  }
  function valueOf(id) {
    const o = st.objects.get(id);
    if (!o) return null;
    switch (o.type) {
      case 'indicator': return o.pattern;
      case 'relationship': return nameOf(o.source_ref) + ' ' + o.relationship_type + ' ' + nameOf(o.target_ref);
      case 'sighting': return 'sighting of ' + nameOf(o.sighting_of_ref) + (o.count ? ' ×' + o.count : '');
      case 'opinion': return o.opinion + ' on ' + (o.object_refs || []).map(nameOf).join(', ');
      default: return o.name || null;
    }
  }
  function refsOf(o) {
    return [o.source_ref, o.target_ref, o.sighting_of_ref, o.created_by_ref].concat(o.object_refs || []).filter(Boolean);
  }
  // Fetch the objects named by ids that are not known yet, 100 ids a request
  // (TAXII match[id]), from the given collections (all readable ones if none).
  async function lookup(ids, cols) {
    if (!st.apiRoot) return;
    const want = [...new Set(ids)].filter((id) => id && !st.objects.has(id));
    if (want.length === 0) return;
    const targets = cols && cols.length ? [...new Set(cols)] : st.collections.filter((c) => c.can_read).map((c) => c.id);
    const jobs = [];
    for (const c of targets) {
      for (let i = 0; i < want.length; i += 100) {
        const url = st.apiRoot + 'collections/' + encodeURIComponent(c) + '/objects/?match%5Bid%5D=' +
          want.slice(i, i + 100).map(encodeURIComponent).join(',');
        jobs.push(get(url, true).then((b) => {
          for (const o of (b && b.objects) || []) st.objects.set(o.id, o);
        }, () => null));
      }
    }
    await Promise.all(jobs);
  }

  // ---- sections ----
  async function loadNode() {
    const out = [];
    const health = await get(V1 + 'health').then((h) => h.status, (e) => 'unreachable (' + e.message + ')');
    out.push(['Health', health]);
    try {
      const sth = await get(V1 + 'ledger/sth');
      out.push(['Ledger size', sth.tree_size + ' object versions'], ['Root hash', code(sth.sha256_root_hash)],
        ['Head signed at', time(sth.timestamp)]);
    } catch (e) { out.push(['Ledger', 'Could not load: ' + e.message]); }
    try {
      const k = await get(V1 + 'key');
      out.push(['Identity', code(k.signer)], ['Public key', code(k.public_key)], ['Fingerprint', code(k.fingerprint)],
        ['Key rotations', (k.rotations || []).length]);
    } catch (e) { out.push(['Key', 'Could not load: ' + e.message]); }
    facts($('node-facts'), out);
  }

  async function loadCollections() {
    const tbody = $('collection-table').querySelector('tbody');
    st.apiRoot = null;
    st.collections = [];
    $('node-title').textContent = '';
    try {
      const d = await get('/taxii2/', true);
      $('node-title').textContent = (d.title || '').replace(/^detente\s+/i, '');
      const root = d.default || (d.api_roots || [])[0];
      if (!root) return fill(tbody, [], 'This node lists no API root.');
      st.apiRoot = new URL(root, location.href).pathname.replace(/\/?$/, '/');
      st.collections = (await get(st.apiRoot + 'collections/', true)).collections || [];
      const counts = await Promise.all(st.collections.map((c) => !c.can_read ? '—' :
        get(st.apiRoot + 'collections/' + encodeURIComponent(c.id) + '/manifest/?limit=1000', true)
          .then((m) => (m.objects || []).length + (m.more ? '+' : ''), () => '?')));
      fill(tbody, st.collections.map((c, i) => [code(c.id), c.title, c.description || '',
        [c.can_read && 'read', c.can_write && 'write'].filter(Boolean).join(', ') || 'none', cell(counts[i], 'num')]),
      'No collections are visible to you.');
    } catch (e) { failed(tbody, e); }
  }

  async function loadVerdicts(after) {
    const tbody = $('verdict-table').querySelector('tbody');
    const q = new URLSearchParams({ limit: PAGE });
    if ($('verdict-state').value) q.set('state', $('verdict-state').value);
    if (after) q.set('after', after);
    try {
      const d = await get(V1 + 'verdicts?' + q);
      const vs = d.verdicts || [];
      await lookup(vs.map((v) => v.id), vs.map((v) => v.object && v.object.collection));
      await lookup(vs.flatMap((v) => (st.objects.has(v.id) ? refsOf(st.objects.get(v.id)) : []).concat(v.source)));
      fill(tbody, vs.map((v) => {
        const b = el('button', nameOf(v.id), 'link');
        b.type = 'button';
        b.title = v.id;
        b.addEventListener('click', () => showClaim(v.id));
        return [cell(b, 'claim'), cell(valueOf(v.id) || (st.apiRoot ? '' : 'sign in to see'), 'value'),
          cell(badge(v.verdict, 'v')), cell(num(v.score, 2), 'num'), cell(evidence(v), 'nowrap'), named(v.source),
          v.object ? v.object.collection : null];
      }), 'No claims are visible to you' + ($('verdict-state').value ? ' in this state.' : '.'));
      st.after = d.more ? d.next : null;
      $('verdict-more').hidden = !d.more;
      $('verdict-first').hidden = !after;
      $('verdict-count').textContent = vs.length + (d.more ? '+' : '') + ' claims' + (after ? ' (later page)' : '');
    } catch (e) { failed(tbody, e); }
  }

  function evidence(v) {
    const parts = [];
    if (v.sightings) parts.push(v.sightings + (v.sightings === 1 ? ' sighting' : ' sightings'));
    if (v.opinions) parts.push(v.opinions + (v.opinions === 1 ? ' opinion' : ' opinions'));
    return parts.length ? parts.join(', ') : 'none';
  }

  async function showClaim(id) {
    const sec = $('detail');
    try {
      const x = await get(V1 + 'verdicts/' + encodeURIComponent(id));
      await lookup([id], [x.object && x.object.collection]);
      await lookup((st.objects.has(id) ? refsOf(st.objects.get(id)) : []).concat(x.source, (x.evidence || []).map((e) => e.source)));
      const ob = x.object || {};
      $('detail-h').textContent = 'Claim: ' + nameOf(id);
      facts($('detail-facts'), [['Id', code(x.id)], ['Type', x.type], ['Value', valueOf(id) ? code(valueOf(id)) : null],
        ['Verdict', badge(x.verdict, 'v')], ['Reason', x.reason], ['Score', num(x.score, 3)],
        ['Support / against / benign', [x.support, x.against, x.benign].map((n) => num(n, 2)).join(' / ')],
        ['Independent sources', x.independent_sources], ['Sightings', x.sightings], ['Opinions', x.opinions],
        ['Judged as of', x.as_of], ['Source', named(x.source)], ['Collection', ob.collection],
        ['Version', ob.modified], ['Signer', ob.signer ? named(ob.signer) : 'unsigned'], ['Ledger leaf', ob.ledger_leaf]]);
      fill($('evidence-table').querySelector('tbody'), (x.evidence || []).map((e) => [e.class, e.kind,
        cell(badge(e.use, 'use')), cell(num(e.weight, 2), 'num'),
        e.message + (e.count ? ' (×' + e.count + ')' : '') + (e.opinion ? ' (' + e.opinion + ')' : ''),
        e.why, e.source ? named(e.source) : null, e.time]), 'No evidence on this claim yet.');
      const o = st.objects.get(id);
      $('detail-object').textContent = o ? JSON.stringify(o, null, 2) : 'Not readable through TAXII with your credentials.';
      history.replaceState(null, '', location.pathname + location.search + '#claim=' + encodeURIComponent(id));
      if (!sec.open) sec.showModal();
      $('detail-close').focus();
    } catch (e) { notice('Could not load ' + id + ': ' + e.message); }
  }

  async function loadReliability() {
    const tbody = $('reliability-table').querySelector('tbody');
    try {
      const rs = await get(V1 + 'reliability?months=0');
      rs.sort((a, b) => b.claims - a.claims);
      await lookup(rs.map((r) => r.source));
      fill(tbody, rs.map((r) => [named(r.source), cell(badge(r.letter, 'grade')), cell(num(r.mean, 2), 'num'),
        r.interval ? num(r.interval[0], 2) + ' – ' + num(r.interval[1], 2) : null, cell(r.claims, 'num'),
        cell(r.corroborated, 'num'), cell(r.refuted, 'num'), cell(r.disputed, 'num'), cell(r.unverified, 'num')]),
      'No sources have claims visible to you.');
    } catch (e) { failed(tbody, e); }
  }

  async function loadPeers() {
    const tbody = $('peer-table').querySelector('tbody');
    try {
      const d = await get(V1 + 'peers');
      fill(tbody, (d.peers || []).map((p) => {
        const s = badge(p.state, 'peer');
        if (p.reason) s.title = p.reason;
        const h = p.last_sth;
        return [p.name, code(p.url), cell(s), time(p.last_sync),
          h ? h.tree_size + ' at ' + time(h.timestamp) : null, cell(p.pulled, 'num'), cell(p.pushed, 'num'),
          p.last_error || (p.state === 'suspect' ? p.reason : '')];
      }), 'This node has no peers.');
    } catch (e) { failed(tbody, e); }
  }

  async function loadAll() {
    const user = sessionStorage.getItem('detente.user');
    $('login').hidden = !!auth();
    $('session').hidden = !auth();
    $('session-user').textContent = user || '';
    if ($('detail').open) $('detail').close();
    st.objects.clear();
    notice('Loading…');
    const node = loadNode();
    await loadCollections();
    await Promise.all([node, loadVerdicts(null), loadReliability(), loadPeers()]);
    notice(auth() ? '' : 'Not signed in: showing what anonymous visitors may see.');
  }

  // ---- sign in / out ----
  function b64(s) {
    let bin = '';
    for (const byte of new TextEncoder().encode(s)) bin += String.fromCharCode(byte);
    return btoa(bin);
  }
  async function signIn(header, user) {
    sessionStorage.setItem('detente.auth', header);
    try {
      await get('/taxii2/', true);
      sessionStorage.setItem('detente.user', user);
    } catch (e) {
      sessionStorage.clear();
      await loadAll();
      notice('Sign-in failed: ' + e.message);
      return false;
    }
    $('login-secret').value = '';
    await loadAll();
    return true;
  }
  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const user = $('login-user').value.trim();
    const secret = $('login-secret').value;
    if (user) signIn('Basic ' + b64(user + ':' + secret), user);
    else signIn('Bearer ' + secret, 'token');
  });
  $('logout').addEventListener('click', () => { sessionStorage.clear(); loadAll(); });
  $('verdict-state').addEventListener('change', () => loadVerdicts(null));
  $('verdict-more').addEventListener('click', () => loadVerdicts(st.after));
  $('verdict-first').addEventListener('click', () => loadVerdicts(null));
  $('detail-close').addEventListener('click', () => $('detail').close());
  $('detail').addEventListener('close', () => history.replaceState(null, '', location.pathname + location.search));

  // The fragment never reaches a server. #claim=ID opens a claim (a link
  // an analyst can pass on); #token=T signs in with a bearer token, which
  // is moved to sessionStorage and wiped from the address bar and history.
  const frag = new Map(location.hash.slice(1).split('&').map((kv) => kv.split('=')).filter((kv) => kv.length === 2)
    .map(([k, v]) => { try { return [k, decodeURIComponent(v)]; } catch (e) { return [k, '']; } }));
  const claim = frag.get('claim');
  const start = () => (claim ? loadAll().then(() => showClaim(claim)) : loadAll());
  if (frag.get('token')) {
    history.replaceState(null, '', location.pathname + location.search + (claim ? '#claim=' + encodeURIComponent(claim) : ''));
    signIn('Bearer ' + frag.get('token'), 'token').then((ok) => ok && claim && showClaim(claim));
  } else {
    start();
  }
})();
