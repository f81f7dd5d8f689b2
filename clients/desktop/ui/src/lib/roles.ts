// Roles as the core names them ("SpaceManager") and as commands take them ("space_manager").

import type { RoleName } from "./api";

export const ROLES: RoleName[] = ["reader", "contributor", "content_manager", "space_manager"];

/** A role as commands take it, from either spelling. */
export function roleName(role: string): RoleName {
  switch (role) {
    case "Reader":
    case "reader":
      return "reader";
    case "ContentManager":
    case "content_manager":
      return "content_manager";
    case "SpaceManager":
    case "space_manager":
      return "space_manager";
    default:
      return "contributor";
  }
}

/** The message id of a role, from either spelling. */
export function roleId(role: string): string {
  return {
    reader: "role-reader",
    contributor: "role-contributor",
    content_manager: "role-content-manager",
    space_manager: "role-space-manager",
  }[roleName(role)];
}
