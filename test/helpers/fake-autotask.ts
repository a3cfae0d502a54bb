/**
 * The fake Autotask lives in shipped code (`cli/stand-ins/fake-autotask.ts`), because the demo runs it as
 * its PSA stand-in; tests keep importing it from here. One implementation.
 */
export * from '../../cli/stand-ins/fake-autotask';
