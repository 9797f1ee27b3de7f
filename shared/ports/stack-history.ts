// What Heat did for a bay's stack, resource by resource, with times: read with the person's
// own token (the stack is in their project), for the console's timeline.

export interface ResourceSpan {
  resource: string;
  /** the (nested) stack the resource belongs to */
  stack: string;
  /** the last status seen: *_IN_PROGRESS while it runs */
  status: string;
  reason: string | null;
  /** ISO times from Heat's events; `end` null while in progress */
  start: string;
  end: string | null;
}

export interface StackHistory {
  /** The spans of the stack's resources (two levels of nesting), oldest first; [] when Heat has no such stack for this token. */
  spans(userToken: string, orchestrationUrl: string, stackId: string): Promise<ResourceSpan[]>;
}
