/** Injection tokens for values that are not classes. */
export const CONFIG = Symbol('inference config');
export const LABELS = Symbol('imagenet labels');
