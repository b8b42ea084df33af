import type { FunctionComponent } from 'preact';
import type { PageProps } from '../lib/console.ts';
import { AccountPage } from './AccountPage.tsx';
import { AlertsPage } from './AlertsPage.tsx';
import { AuditPage } from './AuditPage.tsx';
import { CrmSyncPage } from './CrmSyncPage.tsx';
import { LegalHoldsPage } from './LegalHoldsPage.tsx';
import { OverviewPage } from './OverviewPage.tsx';
import { PolicyPage } from './PolicyPage.tsx';
import { ReportsPage } from './ReportsPage.tsx';
import { ReviewPage } from './ReviewPage.tsx';
import { RolesPage } from './RolesPage.tsx';
import { SettingsPage } from './SettingsPage.tsx';
import { SetupPage } from './SetupPage.tsx';
import { SsoPage } from './SsoPage.tsx';
import { TemplatesPage } from './TemplatesPage.tsx';
import { UsersPage } from './UsersPage.tsx';

/** One page of the console: its address (#/<id>), its name in the menu, and who may open it. */
export interface ConsolePage {
  id: string;
  title: string;
  /** The permission the page's main route needs; null for a page every admin sees. */
  permission: string | null;
  component: FunctionComponent<PageProps>;
}

/** Every page, in menu order. Adding one is a component plus one line here. */
export const PAGES: readonly ConsolePage[] = [
  { id: 'overview', title: 'Overview', permission: null, component: OverviewPage },
  { id: 'setup', title: 'Setup', permission: 'org.manage', component: SetupPage },
  { id: 'policy', title: 'Texting policy', permission: null, component: PolicyPage },
  { id: 'users', title: 'Users and roles', permission: 'users.manage', component: UsersPage },
  { id: 'roles', title: 'Custom roles', permission: 'roles.manage', component: RolesPage },
  { id: 'sso', title: 'Single sign-on', permission: 'org.manage', component: SsoPage },
  { id: 'settings', title: 'Compliance settings', permission: 'org.manage', component: SettingsPage },
  { id: 'holds', title: 'Legal holds', permission: 'org.manage', component: LegalHoldsPage },
  { id: 'templates', title: 'Templates and numbers', permission: 'org.manage', component: TemplatesPage },
  { id: 'review', title: 'Review queue', permission: 'review.flagged', component: ReviewPage },
  { id: 'alerts', title: 'Anomaly alerts', permission: 'users.manage', component: AlertsPage },
  { id: 'crm', title: 'CRM sync', permission: 'org.manage', component: CrmSyncPage },
  { id: 'audit', title: 'Audit log', permission: 'audit.view', component: AuditPage },
  { id: 'reports', title: 'Reports', permission: 'conversations.view_all', component: ReportsPage },
  { id: 'account', title: 'Your account', permission: 'account.self', component: AccountPage },
];
