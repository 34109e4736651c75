/* SPDX-License-Identifier: ISC */
/*
 * fakedom.mjs: just enough of the DOM for node to run web/js/dom.js and
 * what builds on it (elements, text nodes, attributes, classes,
 * listeners), so that tests can look at what a renderer made: every
 * element's tag and attributes, and the text. Import it before the
 * modules under test.
 */

class FakeNode {
	constructor() {
		this.parentNode = null;
		this.childNodes = [];
	}

	appendChild(child) {
		if (child.parentNode)
			child.parentNode.childNodes.splice(child.parentNode.childNodes.indexOf(child), 1);
		child.parentNode = this;
		this.childNodes.push(child);
		return child;
	}

	replaceChildren(...nodes) {
		for (const c of this.childNodes)
			c.parentNode = null;
		this.childNodes = [];
		for (const n of nodes)
			this.appendChild(typeof n === 'string' ? new FakeText(n) : n);
	}

	get textContent() {
		return this.childNodes.map((c) => c.textContent).join('');
	}
}

class FakeText extends FakeNode {
	constructor(data) {
		super();
		this.data = data;
	}

	get textContent() {
		return this.data;
	}
}

class FakeElement extends FakeNode {
	constructor(tag) {
		super();
		this.tagName = tag.toUpperCase();
		this.attributes = new Map();
		this.listeners = new Map();
		this.dataset = {};
		this.classList = {
			add: (...names) => this.setAttribute('class',
			    [...new Set([...this.className.split(' ').filter(Boolean), ...names])].join(' ')),
			contains: (name) => this.className.split(' ').includes(name),
		};
	}

	get className() {
		return this.attributes.get('class') || '';
	}

	set className(v) {
		this.setAttribute('class', v);
	}

	set textContent(v) {
		this.replaceChildren(String(v));
	}

	get textContent() {
		return super.textContent;
	}

	setAttribute(name, value) {
		this.attributes.set(name, String(value));
	}

	getAttribute(name) {
		return this.attributes.has(name) ? this.attributes.get(name) : null;
	}

	hasAttribute(name) {
		return this.attributes.has(name);
	}

	removeAttribute(name) {
		this.attributes.delete(name);
	}

	addEventListener(type, fn) {
		if (!this.listeners.has(type))
			this.listeners.set(type, new Set());
		this.listeners.get(type).add(fn);
	}

	removeEventListener(type, fn) {
		this.listeners.get(type)?.delete(fn);
	}

	/*
	 * Dispatch an event ({type, key?}) at this element: the listeners of
	 * it and of its ancestors, in that order, until one stops it.
	 */
	dispatch(event) {
		let stopped = false;
		const e = {target: this, preventDefault() {}, stopPropagation() {
			stopped = true;
		}, ...event};
		for (let at = this; at && !stopped; at = at.parentNode) {
			for (const fn of [...(at.listeners?.get(e.type) || [])])
				fn(e);
		}
	}

	get firstChild() {
		return this.childNodes[0] || null;
	}

	/* The nearest of this element and its ancestors with class sel (".name" only). */
	closest(sel) {
		for (let e = this; e instanceof FakeElement; e = e.parentNode) {
			if (e.classList.contains(sel.slice(1)))
				return e;
		}
		return null;
	}

	get children() {
		return this.childNodes.filter((c) => c instanceof FakeElement);
	}

	/* Every element under this one, depth first. */
	*descendants() {
		for (const c of this.children) {
			yield c;
			yield* c.descendants();
		}
	}
}

globalThis.Node = FakeNode;
globalThis.document = {
	createElement: (tag) => new FakeElement(tag),
	createElementNS: (ns, tag) => new FakeElement(tag),
	createTextNode: (data) => new FakeText(data),
};

/* An element holding nodes (as a renderer returns them: nodes and strings). */
export function holder(nodes) {
	const el = new FakeElement('div');
	const add = (n) => {
		if (Array.isArray(n))
			n.forEach(add);
		else if (n !== null && n !== undefined)
			el.appendChild(typeof n === 'string' ? new FakeText(n) : n);
	};
	add(nodes);
	return el;
}
