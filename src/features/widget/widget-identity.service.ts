import { AppError } from '../../errors.js';
import type { Clock, IdGenerator } from '../../ids.js';
import type { AnonymousPrincipal } from '../../http/auth.js';
import type { WidgetUser } from '../../domain/widget.js';
import type { SecretBox } from '../../security/secret-box.js';
import type { Store } from '../../storage/store.js';
import type { VisitorDirectory } from './visitor-directory.js';
import { userHashMatches } from './widget-secrets.js';

export interface IdentifiedVisitor {
  anon_user_id: string;
  widget_user: WidgetUser;
}

/**
 * Identity upgrade: the host site vouches for one of its users by `user_hash`, the HMAC-SHA256
 * of their `user_id` with the widget key's identity secret, which only the host's server knows.
 * Only a valid hash links the visitor's anonymous user to the organisation's widget user for that
 * `user_id` (made on first use); from then on the visitor sees the threads of every session so
 * linked — their history on other devices. A session linked to one user is never re-linked to
 * another (409): signing out on the host site means a new widget session.
 */
export class WidgetIdentityService {
  constructor(
    private readonly dependencies: {
      store: Store;
      clock: Clock;
      newId: IdGenerator;
      box: SecretBox;
      directory: VisitorDirectory;
    },
  ) {}

  async identify(input: {
    principal: AnonymousPrincipal;
    userId: string;
    name: string | null;
    email: string | null;
    userHash: string;
    ipAddress: string;
  }): Promise<IdentifiedVisitor> {
    const { store, clock, newId, box, directory } = this.dependencies;
    const { principal } = input;
    const organizationId = principal.organizationId;
    const credential =
      principal.widgetKeyId === undefined
        ? null
        : await store.widgetKeys.getCredential({ organizationId, id: principal.widgetKeyId });
    if (credential === null) throw new AppError('invalid_widget_token');
    const identitySecret = box.open(credential.identity_secret);
    if (!userHashMatches({ identitySecret, userId: input.userId, presented: input.userHash })) {
      throw new AppError('invalid_user_hash');
    }
    const widgetUser = await store.write(async (writers) => {
      const user = await writers.visitors.upsertWidgetUser({
        id: newId(),
        organizationId,
        externalUserId: input.userId,
        name: input.name,
        email: input.email,
        ipAddress: input.ipAddress,
        now: clock.now().toISOString(),
      });
      const linked = await writers.visitors.linkAnonymousUser({
        organizationId,
        id: principal.anonymousUserId,
        widgetUserId: user.id,
      });
      if (!linked) throw new AppError('widget_identity_conflict');
      return user;
    });
    directory.forget({ organizationId, id: principal.anonymousUserId });
    return { anon_user_id: principal.anonymousUserId, widget_user: widgetUser };
  }
}
