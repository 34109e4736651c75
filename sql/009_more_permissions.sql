-- SPDX-License-Identifier: ISC
-- Three more permissions (API.md, Roles and permissions): add_reactions,
-- attach_files and mention_everyone.  A new server's default role starts
-- with the first two; so that nothing a member could do before this
-- version is lost, every existing server's default role is given both
-- here.  mention_everyone is held by no role until one is given it (the
-- owner and administrators have it implicitly, perm.c).  Permissions are
-- stored as a JSON array of names, so no other row changes.
UPDATE roles
SET permissions = JSON_ARRAY_APPEND(permissions, '$', 'add_reactions')
WHERE is_default = 1
  AND JSON_CONTAINS(permissions, '"add_reactions"') = 0;
UPDATE roles
SET permissions = JSON_ARRAY_APPEND(permissions, '$', 'attach_files')
WHERE is_default = 1
  AND JSON_CONTAINS(permissions, '"attach_files"') = 0;
