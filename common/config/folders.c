/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The folders' checks, run after the schema walk, against the file system: each folder key
 * must be (or become) a folder, and no two may be the same folder or nest, or the daemon would
 * send, sweep or deliver its own files. Paths are compared as the kernel will see them: the
 * part that exists through realpath (links resolved), the rest lexically (".", "..", repeated
 * slashes).
 */
#include "common/config/internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct folder {
	char label[CONFIG_NAME_MAX + 32]; /* "'state'", "the path of spool 'cam'" */
	const char *text;  /* as written */
	const yaml_node_t *node; /* its value, or NULL when it is a default */
	char real[PATH_MAX];
	bool ok; /* resolved, and not blocked by a file */
};

/* Appends the components of rel to out (absolute, no trailing slash), "." dropped and ".."
 * taking one off. false when it would not fit. */
static bool lexical_append(char *out, size_t cap, const char *rel)
{
	size_t len = strlen(out);
	if (len == 1)
		len = 0; /* "/" */
	while (*rel) {
		while (*rel == '/')
			rel++;
		size_t n = strcspn(rel, "/");
		if (n == 0)
			break;
		if (n == 1 && rel[0] == '.') {
			/* nothing */
		} else if (n == 2 && rel[0] == '.' && rel[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			if (len + 1 + n >= cap)
				return false;
			out[len++] = '/';
			memcpy(out + len, rel, n);
			len += n;
		}
		rel += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return true;
}

/* Resolves f->text into f->real. A part that exists and is not a folder is reported, as is the
 * whole path when want_dir differs from what exists there. */
static void folder_resolve(struct ctx *c, struct folder *f, bool want_dir)
{
	char abs[PATH_MAX], pre[PATH_MAX], real[PATH_MAX];
	int n;
	if (f->text[0] == '/') {
		n = snprintf(abs, sizeof(abs), "%s", f->text);
	} else {
		if (!getcwd(pre, sizeof(pre)))
			return;
		n = snprintf(abs, sizeof(abs), "%s/%s", pre, f->text);
	}
	if (n < 0 || (size_t)n >= sizeof(abs)) {
		schema_problem(c, f->node, "%s is too long", f->label);
		return;
	}
	/* The longest leading part that exists; the rest, which cannot hold links, follows it. */
	size_t cut = strlen(abs);
	for (;;) {
		memcpy(pre, abs, cut);
		pre[cut] = '\0';
		if (realpath(cut ? pre : "/", real))
			break;
		if (cut == 0) {
			strcpy(real, "/");
			break;
		}
		while (cut > 0 && abs[cut - 1] != '/')
			cut--;
		while (cut > 0 && abs[cut - 1] == '/')
			cut--;
	}
	const char *rest = abs + cut;
	struct stat st;
	bool exists = stat(real, &st) == 0;
	bool whole = !rest[strspn(rest, "/")];
	if (exists && !S_ISDIR(st.st_mode) && (!whole || want_dir)) {
		if (whole)
			schema_problem(c, f->node, "%s %s is not a folder", f->label, f->text);
		else
			schema_problem(c, f->node, "%s %s cannot be a folder: %s is not a folder", f->label, f->text,
				       cut ? pre : "/");
		return;
	}
	if (exists && S_ISDIR(st.st_mode) && whole && !want_dir) {
		schema_problem(c, f->node, "%s %s is a folder; it must name a file", f->label, f->text);
		return;
	}
	snprintf(f->real, sizeof(f->real), "%s", real);
	if (!lexical_append(f->real, sizeof(f->real), rest)) {
		schema_problem(c, f->node, "%s is too long", f->label);
		return;
	}
	f->ok = true;
}

enum nesting { APART, SAME, INSIDE, CONTAINS };

static bool under(const char *a, const char *b)
{
	size_t n = strlen(b);
	return strncmp(a, b, n) == 0 && (n == 1 || a[n] == '/');
}

static enum nesting nesting(const char *a, const char *b)
{
	return strcmp(a, b) == 0 ? SAME : under(a, b) ? INSIDE : under(b, a) ? CONTAINS : APART;
}

/* a and b must not be the same folder nor nest; reported at a, or at b when a is a default. */
static void folders_apart(struct ctx *c, const struct folder *a, const struct folder *b)
{
	if (!a->ok || !b->ok)
		return;
	enum nesting k = nesting(a->real, b->real);
	if (k == APART)
		return;
	if (!a->node) {
		const struct folder *t = a;
		a = b;
		b = t;
		k = k == INSIDE ? CONTAINS : k == CONTAINS ? INSIDE : k;
	}
	if (k == SAME)
		schema_problem(c, a->node, "%s %s is the same folder as %s (%s); each needs a folder of its own",
			       a->label, a->text, b->label, b->text);
	else
		schema_problem(c, a->node, "%s %s %s %s (%s); these folders must not nest", a->label, a->text,
			       k == INSIDE ? "is inside" : "contains", b->label, b->text);
}

static void folder_set(struct ctx *c, struct folder *f, const char *label, const char *text,
		       yaml_node_t *n, bool want_dir)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->label, sizeof(f->label), "%s", label);
	f->text = text;
	f->node = n && schema_scalar(n) ? n : NULL;
	if (text)
		folder_resolve(c, f, want_dir);
}

/* The secret key file beneath one of folders (what `why` says becomes of files there). */
static void secret_apart(struct ctx *c, const char *path, const struct folder *folders, size_t n,
			 const char *why)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	struct folder key;
	folder_set(c, &key, "'keys.secret'", path, schema_lookup(c, schema_lookup(c, root, "keys"), "secret"),
		   false);
	for (size_t i = 0; key.ok && i < n; i++)
		if (folders[i].ok && nesting(key.real, folders[i].real) == INSIDE) {
			schema_problem(c, key.node, "'keys.secret' %s is inside %s (%s); %s", key.text,
				       folders[i].label, folders[i].text, why);
			return;
		}
}

void folders_check_tx(struct ctx *c, const struct tx_config *t)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	yaml_node_t *spools = schema_lookup(c, root, "spools");
	struct folder state, *sp = calloc(t->nspools ? t->nspools : 1, sizeof(*sp));
	if (!sp)
		return;
	folder_set(c, &state, "'state'", t->state, schema_lookup(c, root, "state"), true);
	for (size_t i = 0; i < t->nspools; i++) {
		yaml_node_t *e = spools && spools->type == YAML_SEQUENCE_NODE
					 ? schema_node(c, spools->data.sequence.items.start[i]) : NULL;
		char label[sizeof(sp->label)];
		snprintf(label, sizeof(label), "the path of spool '%s'", t->spools[i].name);
		folder_set(c, &sp[i], label, t->spools[i].path, schema_lookup(c, e, "path"), true);
		for (size_t j = 0; j < i; j++)
			folders_apart(c, &sp[i], &sp[j]);
	}
	for (size_t i = 0; i < t->nspools; i++)
		folders_apart(c, &state, &sp[i]);
	secret_apart(c, t->secret_path, sp, t->nspools,
		     "a spool's files are sent: keep the secret key out of the spools");
	free(sp);
}

void folders_check_rx(struct ctx *c, const struct rx_config *r)
{
	yaml_node_t *root = yaml_document_get_root_node(&c->doc);
	yaml_node_t *output = schema_lookup(c, root, "output");
	struct folder files, events, state, audit;
	folder_set(c, &files, "'output.files'", r->files_dir, schema_lookup(c, output, "files"), true);
	folder_set(c, &events, "'output.events'", r->events_dir, schema_lookup(c, output, "events"), true);
	folder_set(c, &state, "'state'", r->state, schema_lookup(c, root, "state"), true);
	folder_set(c, &audit, "'log.audit'", r->audit_path,
		   schema_lookup(c, schema_lookup(c, root, "log"), "audit"), false);
	folders_apart(c, &events, &files);
	folders_apart(c, &state, &files);
	folders_apart(c, &state, &events);
	/* Retention would sweep an audit log kept in an output folder, and readers of the output
	 * would take it for delivered data. */
	const struct folder *outs[] = {&files, &events};
	for (size_t i = 0; audit.ok && i < 2; i++)
		if (outs[i]->ok && nesting(audit.real, outs[i]->real) != APART &&
		    nesting(audit.real, outs[i]->real) != CONTAINS)
			schema_problem(c, audit.node, "'log.audit' %s is inside %s (%s); the audit log must be kept out of the output folders",
				       audit.text, outs[i]->label, outs[i]->text);
	if (audit.ok && state.ok && strcmp(audit.real, state.real) == 0)
		schema_problem(c, audit.node, "'log.audit' %s is the same path as 'state' (%s)", audit.text,
			       state.text);
	const struct folder granted[] = {files, events, state};
	secret_apart(c, r->secret_path, granted, 3, "the deliver process may read there: keep the "
		     "secret key out of the output folders and 'state'");
}
