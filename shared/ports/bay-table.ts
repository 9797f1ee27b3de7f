// The one table all state lives in. Every write that changes a bay is conditional on the
// version the writer read, so two deliveries of one message can never both win.
import type { Bay, BayCerts, BayEvent, BayModel } from "../domain/model.ts";

export interface ListFilter {
  /** only this project's rows; undefined = all projects (admin) */
  projectId?: string;
}

export interface BayTable {
  putBayModel(model: BayModel): Promise<void>;
  getBayModel(uuid: string): Promise<BayModel | undefined>;
  /** Includes public baymodels of other projects when filter.projectId is set. */
  listBayModels(filter: ListFilter): Promise<BayModel[]>;
  /** listBayModels' baymodels named `name` exactly, in its order (resolving a name per request reads no others). */
  listBayModelsNamed(name: string, filter: ListFilter): Promise<BayModel[]>;
  deleteBayModel(uuid: string): Promise<void>;

  /** Insert a new bay; throws AlreadyExists if the uuid is taken. */
  createBay(bay: Bay): Promise<void>;
  getBay(uuid: string): Promise<Bay | undefined>;
  listBays(filter: ListFilter): Promise<Bay[]>;
  /**
   * How many bays the project has, in any status, counted up to `atMost` (a quota checked on
   * every create reads no more than the limit's worth of keys).
   */
  countBays(projectId: string, atMost: number): Promise<number>;
  /** Bays whose status ends in _IN_PROGRESS (for the sweeper). */
  listBaysInProgress(): Promise<Bay[]>;
  /**
   * Write `bay` (with version = expectedVersion + 1) only if the stored version is still
   * `expectedVersion`; throws VersionConflict otherwise. Returns the stored bay.
   */
  updateBay(bay: Bay, expectedVersion: number): Promise<Bay>;
  /** Conditional like updateBay. Removes the bay (its certs and events stay until removed). */
  deleteBay(uuid: string, expectedVersion: number): Promise<void>;

  /** Insert unless certs exist for the bay; returns the certs that are stored afterwards. */
  putCertsIfAbsent(certs: BayCerts): Promise<BayCerts>;
  getCerts(bayUuid: string): Promise<BayCerts | undefined>;
  /**
   * CA rotation: store `certs` in place of the bay's certs only if the stored ones are still
   * those created at `expectedCreatedAt` (their created_at is their version); throws
   * CertsChanged otherwise, including when the bay has no certs. `certs.created_at` must
   * differ from `expectedCreatedAt`. Returns the stored certs.
   */
  replaceCerts(certs: BayCerts, expectedCreatedAt: string): Promise<BayCerts>;
  deleteCerts(bayUuid: string): Promise<void>;

  appendEvent(event: BayEvent): Promise<void>;
  listEvents(bayUuid: string): Promise<BayEvent[]>;
}

export class VersionConflict extends Error {
  constructor(readonly uuid: string, readonly expected: number) {
    super(`bay ${uuid} changed since version ${expected} was read`);
    this.name = "VersionConflict";
  }
}
/** replaceCerts found other certs (or none) than the ones it was told were read. */
export class CertsChanged extends Error {
  constructor(readonly bayUuid: string, readonly expectedCreatedAt: string) {
    super(`the certificates of bay ${bayUuid} changed since the ones created at ${expectedCreatedAt} were read`);
    this.name = "CertsChanged";
  }
}
export class AlreadyExists extends Error {
  constructor(readonly uuid: string) {
    super(`${uuid} already exists`);
    this.name = "AlreadyExists";
  }
}
