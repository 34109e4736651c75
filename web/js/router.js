/* SPDX-License-Identifier: ISC */
/*
 * router.js: the location hash names what is on screen, so that reload,
 * back and forward work and links can be shared:
 *   #/                      direct messages, none open
 *   #/dm/<dm id>            a direct message conversation
 *   #/s/<server id>         a server (its last or first channel)
 *   #/s/<server id>/<channel id>
 *   #invite/<code>          an invite link: offers to join, then goes on
 */

const ID = '([0-9]{1,20})';
const ROUTES = [
	[new RegExp(`^#/s/${ID}/${ID}$`), (m) => ({kind: 'server', serverId: m[1], channelId: m[2]})],
	[new RegExp(`^#/s/${ID}/?$`), (m) => ({kind: 'server', serverId: m[1], channelId: null})],
	[new RegExp(`^#/dm/${ID}$`), (m) => ({kind: 'home', dmId: m[1]})],
	[/^#invite\/([A-Za-z0-9_-]{1,64})$/, (m) => ({kind: 'invite', code: m[1]})],
];

/* What a hash names; anything unknown is the home view. */
export function parseHash(hash) {
	for (const [re, make] of ROUTES) {
		const m = re.exec(hash);
		if (m)
			return make(m);
	}
	return {kind: 'home', dmId: null};
}

/* The hash of a view. */
export function hashOf(view) {
	if (view.kind === 'server')
		return view.channelId ? `#/s/${view.serverId}/${view.channelId}` : `#/s/${view.serverId}`;
	return view.dmId ? `#/dm/${view.dmId}` : '#/';
}

/*
 * Go to a view. With replace, the current history entry is replaced and
 * no hashchange event fires, so the caller applies the view itself.
 */
export function navigate(view, replace = false) {
	const hash = hashOf(view);
	if (location.hash === hash)
		return;
	if (replace)
		history.replaceState(null, '', hash);
	else
		location.hash = hash;
}

/* The shareable link of an invite code. */
export function inviteLink(code) {
	return `${location.origin}${location.pathname}#invite/${code}`;
}

/* The code in an invite link or a bare code as typed; null if neither. */
export function parseInvite(text) {
	const t = text.trim();
	const m = /#invite\/([A-Za-z0-9_-]+)\s*$/.exec(t) || /(?:^|\/)([A-Za-z0-9_-]{4,64})\s*$/.exec(t);
	return m ? m[1] : null;
}
